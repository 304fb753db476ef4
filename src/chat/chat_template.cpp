#include "chat/chat_template.h"

#include <utility>
#include <vector>

#include "base/check.h"
#include "chat/chat_messages.h"
#include "chat/jinja/json_value.h"

namespace inferd::chat {
namespace {

// ChatML, with tool calls in the <tool_call> form ChatML-based tool models (Hermes, Qwen) use.
constexpr std::string_view kChatmlSource = R"({%- for message in messages -%}
{{- '<|im_start|>' + message['role'] + '\n' -}}
{%- if message['content'] is string -%}
{{- message['content'] -}}
{%- endif -%}
{%- if message['tool_calls'] is defined and message['tool_calls'] -%}
{%- for tool_call in message['tool_calls'] -%}
{%- if message['content'] or not loop.first %}{{ '\n' }}{% endif -%}
{{- '<tool_call>\n{"name": "' + tool_call['function']['name'] + '", "arguments": ' -}}
{%- if tool_call['function']['arguments'] is string -%}
{{- tool_call['function']['arguments'] -}}
{%- else -%}
{{- tool_call['function']['arguments'] | tojson -}}
{%- endif -%}
{{- '}\n</tool_call>' -}}
{%- endfor -%}
{%- endif -%}
{{- '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- endif -%}
)";

}  // namespace

Result<ChatTemplate> ChatTemplate::parse(std::string source) {
  auto text = std::make_shared<const std::string>(std::move(source));
  auto parsed = jinja::Template::parse(*text);
  if (!parsed.ok()) return parsed.status().with_context("chat template");
  ChatTemplate result(std::move(text), std::move(parsed).value());
  result.caps_.iterates_content = template_iterates_content(result.template_.ast());
  result.caps_.object_arguments = template_wants_object_arguments(result.template_);
  return result;
}

std::string_view ChatTemplate::chatml_source() {
  return kChatmlSource;
}

const ChatTemplate& ChatTemplate::chatml() {
  static const ChatTemplate* const kChatml = [] {
    auto parsed = ChatTemplate::parse(std::string(kChatmlSource));
    INFERD_CHECK_MSG(parsed.ok(), "the built-in ChatML template must parse");
    return new ChatTemplate(std::move(parsed).value());
  }();
  return *kChatml;
}

Result<std::string> ChatTemplate::render(const ChatRequestView& request) const {
  if (request.messages == nullptr) return invalid_argument("chat request without messages");
  const uint32_t max_depth = limits_.max_value_depth;
  std::vector<std::pair<std::string, jinja::Value>> vars;
  INFERD_ASSIGN_OR_RETURN(jinja::Value messages,
                          messages_to_value(*request.messages, caps_, max_depth));
  vars.emplace_back("messages", std::move(messages));
  jinja::Value tools = jinja::Value::none();
  if (request.tools != nullptr && !request.tools->is_null()) {
    if (!request.tools->is_array()) return invalid_argument("tools must be an array");
    INFERD_ASSIGN_OR_RETURN(tools, jinja::value_from_json(*request.tools, max_depth));
  }
  vars.emplace_back("tools", std::move(tools));
  vars.emplace_back("documents", jinja::Value::none());
  vars.emplace_back("add_generation_prompt", jinja::Value::boolean(request.add_generation_prompt));
  vars.emplace_back("bos_token", jinja::Value::string(std::string(request.bos_token)));
  vars.emplace_back("eos_token", jinja::Value::string(std::string(request.eos_token)));
  if (request.extra != nullptr && !request.extra->is_null()) {
    if (!request.extra->is_object())
      return invalid_argument("extra template variables must be an object");
    for (const auto& [key, value] : request.extra->items()) {
      INFERD_ASSIGN_OR_RETURN(jinja::Value v, jinja::value_from_json(value, max_depth));
      bool replaced = false;
      for (auto& [name, existing] : vars) {
        if (name == key) {
          existing = v;
          replaced = true;
        }
      }
      if (!replaced) vars.emplace_back(key, std::move(v));
    }
  }
  jinja::RenderOptions options;
  options.limits = limits_;
  options.now = request.now;
  return template_.render(std::move(vars), options);
}

}  // namespace inferd::chat
