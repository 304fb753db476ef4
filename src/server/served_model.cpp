#include "server/served_model.h"

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "model/model.h"
#include "server/telemetry/telemetry.h"

namespace inferd::server {

std::string default_model_id(const std::string& path) {
  std::filesystem::path p(path);
  if (!p.has_filename()) p = p.parent_path();  // "models/qwen/"
  std::error_code ec;
  // A directory keeps its whole name ("Qwen2.5-0.5B-Instruct-4bit"); a file loses its extension.
  return std::filesystem::is_directory(p, ec) ? p.filename().string() : p.stem().string();
}

Result<std::unique_ptr<ServedModel>> ServedModel::load(const ServedModelOptions& o) {
  std::unique_ptr<ServedModel> m(new ServedModel());
  INFERD_ASSIGN_OR_RETURN(m->model_, Model::load(o.path));
  m->id_ = o.id.empty() ? default_model_id(o.path) : o.id;
  m->aliases_ = o.aliases;
  m->generates_ = o.generates;
  m->request_defaults_ = o.request_defaults;
  m->system_prompt_ = o.system_prompt;
  m->max_waiting_ = o.engine.max_waiting;
  m->created_ = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  if (auto bos = m->model_->bos()) m->bos_text_ = m->model_->token_to_piece(*bos, true);
  if (auto eos = m->model_->eos()) m->eos_text_ = m->model_->token_to_piece(*eos, true);

  INFERD_RETURN_IF_ERROR(m->load_template(o));
  INFERD_ASSIGN_OR_RETURN(m->engine_, EngineLoop::create(m->model_, o.engine));
  return m;
}

Status ServedModel::load_template(const ServedModelOptions& o) {
  if (!o.chat_template_file.empty()) {
    std::ifstream in(o.chat_template_file, std::ios::binary);
    if (!in) return io_error("cannot read the chat template file {}", o.chat_template_file);
    std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = chat::ChatTemplate::parse(std::move(source));
    if (!parsed.ok()) return invalid_argument("chat template {}: {}", o.chat_template_file, parsed.status().message());
    template_ = std::make_unique<chat::ChatTemplate>(std::move(parsed).value());
    has_own_template_ = true;
  } else if (const std::string& source = model_->chat_template(); !source.empty()) {
    auto parsed = chat::ChatTemplate::parse(source);
    if (parsed.ok()) {
      template_ = std::make_unique<chat::ChatTemplate>(std::move(parsed).value());
      has_own_template_ = true;
    } else {
      spdlog::warn("model {}: its chat template does not parse ({}); using ChatML", id_, parsed.status().to_string());
    }
  }
  if (!template_) template_ = std::make_unique<chat::ChatTemplate>(chat::ChatTemplate::chatml());
  output_format_ = chat::detect_output_format(template_->source());
  if (!o.output_format.empty()) {
    auto f = chat::output_format_from_name(o.output_format);
    if (!f) return invalid_argument("unknown tool-call format '{}'", o.output_format);
    output_format_ = *f;
  }
  parse_reasoning_ = o.parse_reasoning;
  return {};
}

void ServedModel::attach_telemetry(std::shared_ptr<Telemetry> telemetry) {
  model_telemetry_ = telemetry ? &telemetry->model(id_) : nullptr;
  telemetry_ = std::move(telemetry);
}

bool ServedModel::answers_to(std::string_view name) const {
  if (name == id_) return true;
  for (const auto& a : aliases_)
    if (name == a) return true;
  return false;
}

}  // namespace inferd::server
