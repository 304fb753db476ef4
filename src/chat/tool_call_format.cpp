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

// The format table: one row per family, in detection order; the generic row (no detector) last.
const std::array<FormatRow, 8> kFormats{{
    {.format = OutputFormat::kDeepSeekR1,
     .name = "deepseek_r1",
     .detect = detect_deepseek_r1,
     .triggers = {{{"<｜tool▁calls▁begin｜>", parse_deepseek_r1_section}}},
     .forced_prefix = "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>",
     .forced_name_suffix = "\n```json\n",
     .forced_after = "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
     .forced_name_in_json = false},
    {.format = OutputFormat::kCommandR7B,
     .name = "command_r7b",
     .detect = detect_command_r7b,
     .triggers = {{{"<|START_ACTION|>", parse_command_r7b_action_section},
                   {"<|START_RESPONSE|>", nullptr},
                   {"<|END_RESPONSE|>", nullptr}}},
     .reasoning = {"<|START_THINKING|>", "<|END_THINKING|>"},
     .forced_prefix = "<|START_ACTION|>[\n    {\"tool_call_id\": \"0\", \"tool_name\": ",
     .forced_name_suffix = ", \"parameters\": ",
     .forced_after = "}\n]<|END_ACTION|>"},
    {.format = OutputFormat::kFunctionaryV31,
     .name = "functionary_v3_1",
     .detect = detect_functionary_v31,
     .triggers = {{{"<function=", parse_functionary_function_section},
                   {"<|python_tag|>", parse_functionary_python_section}}},
     .forced_prefix = "<function=",
     .forced_name_suffix = ">",
     .forced_after = "</function>",
     .forced_name_in_json = false},
    {.format = OutputFormat::kFirefunctionV2,
     .name = "firefunction_v2",
     .detect = detect_firefunction_v2,
     .triggers = {{{"functools[", parse_firefunction_section}}},
     .forced_prefix = " functools[{\"name\": ",
     .forced_name_suffix = ", \"arguments\": ",
     .forced_after = "}]"},
    {.format = OutputFormat::kMistral,
     .name = "mistral",
     .detect = detect_mistral,
     .triggers = {{{"[TOOL_CALLS]", parse_mistral_section}}},
     .id_prefix = "",  // Mistral templates accept only 9 alphanumerics
     .id_random_chars = 9,
     .forced_prefix = "[TOOL_CALLS][{\"name\": ",
     .forced_name_suffix = ", \"arguments\": ",
     .forced_after = "}]"},
    {.format = OutputFormat::kHermes,
     .name = "hermes",
     .detect = detect_hermes,
     .triggers = {{{"<tool_call>", parse_hermes_section}}},
     .forced_prefix = "<tool_call>\n{\"name\": ",
     .forced_name_suffix = ", \"arguments\": ",
     .forced_after = "}\n</tool_call>"},
    {.format = OutputFormat::kLlama3,
     .name = "llama3",
     .detect = detect_llama3,
     .triggers = {{{"<|python_tag|>", parse_llama3_python_tag_section}}},
     .leading_json = parse_llama3_json_section,
     .forced_prefix = "{\"name\": ",
     .forced_name_suffix = ", \"parameters\": ",
     .forced_after = "}"},
    {.format = OutputFormat::kGeneric,
     .name = "generic",
     .leading_json = parse_generic_json_section,
     .forced_prefix = "{\"name\": ",
     .forced_name_suffix = ", \"arguments\": ",
     .forced_after = "}"},
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
