// Tool-call syntax of each output format: section parsers and the format table rows that tie a
// detector, triggers, reasoning tags, id style and forced-call text together. Internal to the
// chat layer (OutputParser and tool_call_format.cpp).
//
// A section is a stretch of output that starts with a trigger (a literal such as "<tool_call>",
// or the first '{' of a message) and holds zero or more calls. Section parsers are pure functions
// of (text from the section start, whether the text is final); they are re-run as text arrives
// and must be monotonic: a kMatched or kFailed answer for a prefix is the answer for every longer
// text, and final text never gets kNeedMore. That makes streamed and whole-text parsing agree.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_call_format.h"
#include "chat/tool_call_json.h"

namespace inferd::chat {

struct SectionResult {
  ParseStep step = ParseStep::kNeedMore;
  size_t consumed = 0;  // kMatched: bytes of the section, trigger included
  std::vector<RawToolCall> calls;
};

using SectionParser = SectionResult (*)(std::string_view text, bool final);

// A reading position in text that may still grow. Every step returns kNeedMore only when the
// text ends inside a possible match and is not final.
struct SyntaxCursor {
  std::string_view text;
  size_t pos = 0;
  bool final = false;

  bool at_end() const { return pos >= text.size(); }
  char peek() const { return text[pos]; }  // REQUIRES: !at_end()
  void skip_ws();
  // Consumes `lit` when the text continues with it.
  ParseStep literal(std::string_view lit);
  // Reads a JSON object or array (no leading whitespace) into *out.
  ParseStep json(nlohmann::ordered_json* out);
  // Reads 1..max_len bytes up to (not including) the first byte in `stops`; fails on an empty
  // run, on a longer one, and on a byte in `forbidden`.
  ParseStep until_any(std::string_view stops, std::string_view forbidden, size_t max_len,
                      std::string_view* out);
  // kNeedMore at the end of non-final text, kFailed at the end of final text, else kMatched.
  ParseStep need_byte() const;
};

inline bool is_syntax_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// What opens a section inside content.
struct SectionTrigger {
  std::string_view text;
  // nullptr: a formatting marker, removed from the output and parsed even when tools are off.
  SectionParser parse = nullptr;
};

inline constexpr size_t kMaxTriggers = 3;

// One output format: the single place that defines a family.
struct FormatRow {
  OutputFormat format = OutputFormat::kGeneric;
  std::string_view name;
  bool (*detect)(std::string_view template_source) = nullptr;  // nullptr: only as the fallback
  std::array<SectionTrigger, kMaxTriggers> triggers{};         // unused entries have empty text
  // Parses a message that starts (after whitespace) with '{' or '[' as calls; nullptr when the
  // format has no bare-JSON calls.
  SectionParser leading_json = nullptr;
  ReasoningTags reasoning{"<think>", "</think>"};
  std::string_view id_prefix = "call_";
  size_t id_random_chars = 24;
  // Forced call: prefix + name (JSON-escaped when name_in_json) + name_suffix + A + after.
  std::string_view forced_prefix;
  std::string_view forced_name_suffix;
  std::string_view forced_after;
  bool forced_name_in_json = true;
};

// The table row of `format`.
const FormatRow& format_row(OutputFormat format);

// Section parsers (tool_call_syntax_json.cpp: JSON-bodied formats; tool_call_syntax_tagged.cpp:
// formats with their own tags).
SectionResult parse_hermes_section(std::string_view text, bool final);
SectionResult parse_llama3_json_section(std::string_view text, bool final);
SectionResult parse_llama3_python_tag_section(std::string_view text, bool final);
SectionResult parse_mistral_section(std::string_view text, bool final);
SectionResult parse_firefunction_section(std::string_view text, bool final);
SectionResult parse_command_r7b_action_section(std::string_view text, bool final);
SectionResult parse_generic_json_section(std::string_view text, bool final);
SectionResult parse_functionary_function_section(std::string_view text, bool final);
SectionResult parse_functionary_python_section(std::string_view text, bool final);
SectionResult parse_deepseek_r1_section(std::string_view text, bool final);

// The call "python" with arguments {"code": code} (whitespace-trimmed) that Llama 3.1 and
// Functionary use for code after <|python_tag|>; nullopt for empty code.
std::optional<RawToolCall> python_code_call(std::string_view code);

}  // namespace inferd::chat
