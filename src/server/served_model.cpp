#include "server/served_model.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "model/model.h"

namespace inferd::server {

Result<std::unique_ptr<ServedModel>> ServedModel::load(const ServedModelOptions& o) {
  std::unique_ptr<ServedModel> m(new ServedModel());
  INFERD_ASSIGN_OR_RETURN(m->model_, Model::load(o.path));
  m->id_ = o.id.empty() ? std::filesystem::path(o.path).stem().string() : o.id;
  m->aliases_ = o.aliases;
  m->created_ = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto bos = m->model_->bos()) m->bos_text_ = m->model_->token_to_piece(*bos, true);
  if (auto eos = m->model_->eos()) m->eos_text_ = m->model_->token_to_piece(*eos, true);

  const auto& file = m->model_->core().file();
  auto source = file.get_string("tokenizer.chat_template");
  if (source.ok()) {
    auto parsed = chat::ChatTemplate::parse(*source);
    if (parsed.ok()) {
      m->template_ = std::make_unique<chat::ChatTemplate>(std::move(parsed).value());
      m->has_own_template_ = true;
    } else {
      spdlog::warn("model {}: its chat template does not parse ({}); using ChatML", m->id_,
                   parsed.status().to_string());
    }
  }
  if (!m->template_) m->template_ = std::make_unique<chat::ChatTemplate>(chat::ChatTemplate::chatml());
  INFERD_ASSIGN_OR_RETURN(m->engine_, EngineLoop::create(m->model_, o.engine));
  return m;
}

bool ServedModel::answers_to(std::string_view name) const {
  if (name == id_) return true;
  for (const auto& a : aliases_)
    if (name == a) return true;
  return false;
}

}  // namespace inferd::server
