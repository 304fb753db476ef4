#include "server/api/openai/chat_prompt.h"

namespace inferd::server::openai {

Result<ChatPrompt> chat_prompt(const ServedModel& m, const ChatRequest& r, bool with_tools) {
  chat::ChatRequestView view;
  view.messages = &r.messages;
  view.tools = with_tools ? &r.tools : nullptr;
  view.add_generation_prompt = true;
  view.bos_token = m.bos_text();
  view.eos_token = m.eos_text();
  view.extra = r.template_kwargs.is_object() ? &r.template_kwargs : nullptr;
  auto text = m.chat_template().render(view);
  if (!text.ok())
    return invalid_argument("the model's chat template rejected the messages: {}", text.status().message())
        .with_field("messages");
  ChatPrompt p;
  p.text = std::move(text).value();
  const Model& model = m.model();
  if (model.adds_bos() && model.bos() && !(!m.bos_text().empty() && p.text.rfind(m.bos_text(), 0) == 0))
    p.tokens.push_back(*model.bos());
  const auto body = model.tokenize(p.text, /*add_special=*/false, /*parse_special=*/true);
  p.tokens.insert(p.tokens.end(), body.begin(), body.end());
  return p;
}

}  // namespace inferd::server::openai
