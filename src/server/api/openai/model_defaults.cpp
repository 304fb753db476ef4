#include "server/api/openai/model_defaults.h"

namespace inferd::server::openai {

Json with_model_defaults(Json body, const ServedModel& m) {
  if (m.request_defaults().is_object())
    for (const auto& [key, value] : m.request_defaults().items())
      if (!body.contains(key) && !(key == "max_tokens" && body.contains("max_completion_tokens")))
        body[key] = value;
  auto messages = body.find("messages");
  if (!m.system_prompt().empty() && messages != body.end() && messages->is_array()) {
    bool has_system = false;
    for (const Json& msg : *messages) {
      if (!msg.is_object()) continue;
      const auto role = msg.find("role");
      if (role != msg.end() && role->is_string() && *role == "system") has_system = true;
    }
    if (!has_system)
      messages->insert(messages->begin(), Json{{"role", "system"}, {"content", m.system_prompt()}});
  }
  return body;
}

std::string response_model_name(const RoutedModel& routed, std::string_view requested) {
  if (routed.fallback || requested.empty()) return routed.model->id();
  return std::string(requested);
}

}  // namespace inferd::server::openai
