#include "chat/tool_call_format.h"

#include <array>
#include <random>

#include "base/check.h"
#include "chat/tool_call_syntax.h"

namespace inferd::chat {
namespace {

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Detectors look for the text a template renders assistant tool calls with. Rows are tried in
// table order, so a template matching several families (Functionary also says "ipython",
// Hermes 2 Pro on Llama 3 also has <|start_header_id|>) goes to the first.
bool detect_deepseek_r1(std::string_view s) {
  return contains(s, "<｜tool▁calls▁begin｜>") || contains(s, "<｜Assistant｜>");
}
bool detect_command_r7b(std::string_view s) {
  return contains(s, "<|START_ACTION|>");
}
bool detect_functionary_v31(std::string_view s) {
  return contains(s, "<function=");
}
bool detect_firefunction_v2(std::string_view s) {
  return contains(s, "functools[");
}
bool detect_mistral(std::string_view s) {
  return contains(s, "[TOOL_CALLS]");
}
bool detect_hermes(std::string_view s) {
  return contains(s, "<tool_call>");
}
bool detect_llama3(std::string_view s) {
  return contains(s, "<|python_tag|>") || contains(s, "ipython");
}

constexpr ReasoningTags kThinkTags{"<think>", "</think>"};
constexpr ReasoningTags kCommandRThinkingTags{"<|START_THINKING|>", "<|END_THINKING|>"};

// The format table: one row per family, in detection order; the generic row (no detector) last.
const std::array<FormatRow, 8> kFormats{{
    {OutputFormat::kDeepSeekR1,
     "deepseek_r1",
     detect_deepseek_r1,
     {{{"<｜tool▁calls▁begin｜>", parse_deepseek_r1_section}}},
     nullptr,
     kThinkTags,
     "call_",
     24,
     "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>",
     "\n```json\n",
     "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
     false},
    {OutputFormat::kCommandR7B,
     "command_r7b",
     detect_command_r7b,
     {{{"<|START_ACTION|>", parse_command_r7b_action_section},
       {"<|START_RESPONSE|>", nullptr},
       {"<|END_RESPONSE|>", nullptr}}},
     nullptr,
     kCommandRThinkingTags,
     "call_",
     24,
     "<|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": ",
     ", \"parameters\": ",
     "}\n]<|END_ACTION|>",
     true},
    {OutputFormat::kFunctionaryV31,
     "functionary_v3_1",
     detect_functionary_v31,
     {{{"<function=", parse_functionary_function_section},
       {"<|python_tag|>", parse_functionary_python_section}}},
     nullptr,
     kThinkTags,
     "call_",
     24,
     "<function=",
     ">",
     "</function>",
     false},
    {OutputFormat::kFirefunctionV2,
     "firefunction_v2",
     detect_firefunction_v2,
     {{{"functools[", parse_firefunction_section}}},
     nullptr,
     kThinkTags,
     "call_",
     24,
     " functools[{\"name\": ",
     ", \"arguments\": ",
     "}]",
     true},
    {OutputFormat::kMistral,
     "mistral",
     detect_mistral,
     {{{"[TOOL_CALLS]", parse_mistral_section}}},
     nullptr,
     kThinkTags,
     "",
     9,
     "[TOOL_CALLS][{\"name\": ",
     ", \"arguments\": ",
     "}]",
     true},
    {OutputFormat::kHermes,
     "hermes",
     detect_hermes,
     {{{"<tool_call>", parse_hermes_section}}},
     nullptr,
     kThinkTags,
     "call_",
     24,
     "<tool_call>\n{\"name\": ",
     ", \"arguments\": ",
     "}\n</tool_call>",
     true},
    {OutputFormat::kLlama3,
     "llama3",
     detect_llama3,
     {{{"<|python_tag|>", parse_llama3_python_tag_section}}},
     parse_llama3_json_section,
     kThinkTags,
     "call_",
     24,
     "{\"name\": ",
     ", \"parameters\": ",
     "}",
     true},
    {OutputFormat::kGeneric,
     "generic",
     nullptr,
     {},
     parse_generic_json_section,
     kThinkTags,
     "call_",
     24,
     "{\"name\": ",
     ", \"arguments\": ",
     "}",
     true},
}};

}  // namespace

const FormatRow& format_row(OutputFormat format) {
  for (const FormatRow& row : kFormats) {
    if (row.format == format) return row;
  }
  INFERD_CHECK_MSG(false, "output format missing from the format table");
  return kFormats.back();
}

OutputFormat detect_output_format(std::string_view template_source) {
  for (const FormatRow& row : kFormats) {
    if (row.detect != nullptr && row.detect(template_source)) return row.format;
  }
  return OutputFormat::kGeneric;
}

std::string_view output_format_name(OutputFormat format) {
  return format_row(format).name;
}

std::optional<OutputFormat> output_format_from_name(std::string_view name) {
  for (const FormatRow& row : kFormats) {
    if (row.name == name) return row.format;
  }
  return std::nullopt;
}

ReasoningTags reasoning_tags(OutputFormat format) {
  return format_row(format).reasoning;
}

bool prompt_opens_reasoning(OutputFormat format, std::string_view prompt) {
  const std::string_view open = format_row(format).reasoning.open;
  size_t end = prompt.size();
  while (end > 0 && is_syntax_ws(prompt[end - 1])) --end;
  return end >= open.size() && prompt.substr(end - open.size(), open.size()) == open;
}

std::string random_tool_call_id(OutputFormat format) {
  static constexpr std::string_view kAlnum =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const FormatRow& row = format_row(format);
  std::string id(row.id_prefix);
  std::uniform_int_distribution<size_t> pick(0, kAlnum.size() - 1);
  for (size_t i = 0; i < row.id_random_chars; ++i) id.push_back(kAlnum[pick(rng)]);
  return id;
}

ForcedCallText forced_call_text(OutputFormat format, std::string_view function_name) {
  const FormatRow& row = format_row(format);
  ForcedCallText text;
  text.before_arguments = std::string(row.forced_prefix);
  if (row.forced_name_in_json) {
    text.before_arguments += compact_json(nlohmann::ordered_json(std::string(function_name)));
  } else {
    text.before_arguments += function_name;
  }
  text.before_arguments += row.forced_name_suffix;
  text.after_arguments = std::string(row.forced_after);
  return text;
}

}  // namespace inferd::chat
