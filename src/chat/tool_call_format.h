// OutputFormat: how a model family writes tool calls and reasoning in its output text, detected
// from the model's chat template (the template shows how calls are rendered back into prompts).
// Every family is one row of the table in tool_call_format.cpp (detector, syntax, reasoning tags,
// id style, forced-call text); OutputParser (output_parser.h) reads model output with it.
//
// Families and the text they produce (tool parsing only when the request has tools):
//   generic       {"name": ..., "arguments"|"parameters": {...}} (or an array of such objects)
//                 as the whole message
//   hermes        <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>, repeated
//                 (Hermes 2 Pro, Qwen 2.5, Qwen 3, QwQ)
//   llama3        {"name": ..., "parameters": {...}} as the whole message, several separated by
//                 ';'; <|python_tag|> followed by such JSON, by a built-in call
//                 name.call(key="value", ...), or by Python code (a call "python" {"code": ...})
//   mistral       [TOOL_CALLS][{"name": ..., "arguments": {...}, "id": ...}, ...] and the newer
//                 [TOOL_CALLS]name[CALL_ID]id[ARGS]{...} ([CALL_ID] optional, repeated per call)
//   functionary_v3_1  <function=name>{...}</function>, and <|python_tag|>code (call "python")
//   firefunction_v2   functools[{"name": ..., "arguments": {...}}, ...]
//   command_r7b   <|START_THINKING|>plan<|END_THINKING|> (reasoning),
//                 <|START_ACTION|>[{"tool_name": ..., "parameters": {...}}]<|END_ACTION|>,
//                 <|START_RESPONSE|>text<|END_RESPONSE|> (markers removed from content)
//   deepseek_r1   <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>name
//                 ```json\n{...}\n```<｜tool▁call▁end｜>...<｜tool▁calls▁end｜>
// Reasoning: a block opened by the family's open tag (<think> unless noted) at the very start of
// the output, or already open when the prompt ends inside it (prompt_opens_reasoning()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::chat {

enum class OutputFormat : uint8_t {
  kGeneric,
  kHermes,
  kLlama3,
  kMistral,
  kFunctionaryV31,
  kFirefunctionV2,
  kCommandR7B,
  kDeepSeekR1,
};

// The format of the first table row whose detector accepts the template source; kGeneric when
// none does (templates without tool support included).
OutputFormat detect_output_format(std::string_view template_source);

// Stable lower-case names ("generic", "hermes", "llama3", "mistral", "functionary_v3_1",
// "firefunction_v2", "command_r7b", "deepseek_r1") for configuration, logs and test data.
std::string_view output_format_name(OutputFormat format);
std::optional<OutputFormat> output_format_from_name(std::string_view name);

// The tags that open and close a reasoning block in this format's output.
struct ReasoningTags {
  std::string_view open;
  std::string_view close;
};
ReasoningTags reasoning_tags(OutputFormat format);

// True when a rendered prompt ends inside an open reasoning block (its last non-whitespace text
// is the open tag, as DeepSeek-R1 templates write "<｜Assistant｜><think>\n"): the output then
// starts in the reasoning part (OutputParserOptions::starts_in_reasoning).
bool prompt_opens_reasoning(OutputFormat format, std::string_view prompt);

// A new random tool-call id in the format's style: "call_" + 24 alphanumerics, or 9
// alphanumerics for Mistral (its templates reject other ids). Thread-safe.
std::string random_tool_call_id(OutputFormat format);

// Forced tool use (tool_choice "required" or a named function): the text a model of this format
// writes to call `function_name` with arguments A is
//   before_arguments + A + after_arguments,
// where A is a JSON object (the server constrains it with a grammar for the function's parameter
// schema). For "required", the server offers one such alternative per tool. The text parses back
// into exactly one call of `function_name` with arguments A.
struct ForcedCallText {
  std::string before_arguments;
  std::string after_arguments;
};
ForcedCallText forced_call_text(OutputFormat format, std::string_view function_name);

}  // namespace inferd::chat
