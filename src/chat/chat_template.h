// ChatTemplate: renders OpenAI-style chat requests (messages, tools) into a prompt with a
// model's Jinja chat template (GGUF `tokenizer.chat_template` or tokenizer_config.json), the way
// Hugging Face transformers renders it.
//
// Request normalisation, decided once per template at parse time:
//  - content-part arrays ([{"type":"text","text":...}]) are joined into one string (text parts
//    concatenated without separator) unless the template iterates message content itself
//    (a {% for %} over `.content` / `['content']` or a variable set from it); then the arrays
//    are passed through unchanged.
//  - tool_calls[].function.arguments: OpenAI clients send a JSON string. Templates that only
//    render arguments correctly as an object (Hermes/Qwen/Llama 3.1 `arguments | tojson`) get
//    the string parsed into an object; templates that concatenate arguments as text
//    (DeepSeek-R1, Firefunction, Functionary) keep the string, and receive objects serialised.
//    Which applies is found by rendering a probe tool call both ways.
// Template variables: messages, tools (None when absent), documents (None),
// add_generation_prompt, bos_token, eos_token, then the request's extra variables.
//
// A ChatTemplate is immutable and thread-safe to render concurrently.
#pragma once

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/template.h"

namespace inferd::chat {

// One render request. Pointed-to JSON must outlive the render() call. JSON is ordered_json so
// that objects (tool schemas) keep their key order, which templates print with tojson.
struct ChatRequestView {
  const nlohmann::ordered_json* messages = nullptr;  // REQUIRED: array of message objects
  const nlohmann::ordered_json* tools = nullptr;     // array, or null/absent: tools = None
  bool add_generation_prompt = true;
  std::string_view bos_token;
  std::string_view eos_token;
  // Object of additional template variables (date_string, tools_in_user_message,
  // builtin_tools, enable_thinking, ...).
  const nlohmann::ordered_json* extra = nullptr;
  // Time reported by strftime_now(); the current time when absent.
  std::optional<std::time_t> now;
};

// How a template wants its input, detected at parse time.
struct ChatTemplateCaps {
  bool object_arguments = false;  // tool call arguments as objects rather than JSON strings
  bool iterates_content = false;  // content-part arrays passed through unchanged
};

class ChatTemplate {
 public:
  // Parses a template and detects its capabilities. Fails with a syntax error naming the line
  // and column.
  static Result<ChatTemplate> parse(std::string source);
  // The fallback for models without a template: ChatML (<|im_start|>role\n...<|im_end|>\n).
  static const ChatTemplate& chatml();
  static std::string_view chatml_source();

  Result<std::string> render(const ChatRequestView& request) const;

  const ChatTemplateCaps& caps() const { return caps_; }
  const std::string& source() const { return *source_; }
  // Resource limits applied to each render (defaults: jinja::Limits{}).
  void set_limits(const jinja::Limits& limits) { limits_ = limits; }

 private:
  ChatTemplate(std::shared_ptr<const std::string> source, jinja::Template tmpl)
      : source_(std::move(source)), template_(std::move(tmpl)) {}

  std::shared_ptr<const std::string> source_;
  jinja::Template template_;
  ChatTemplateCaps caps_;
  jinja::Limits limits_;
};

}  // namespace inferd::chat
