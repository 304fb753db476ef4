// Section parsers of formats that wrap calls in their own tags: Functionary v3.1 and DeepSeek-R1,
// and the Python-code call both Functionary and Llama 3.1 write after <|python_tag|>.
#include <utility>

#include "chat/tool_call_syntax.h"

#define INFERD_SECTION_TRY(expr)                                             \
  do {                                                                       \
    const ::inferd::chat::ParseStep step_ = (expr);                          \
    if (step_ != ::inferd::chat::ParseStep::kMatched) return {step_, 0, {}}; \
  } while (0)

namespace inferd::chat {
namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxTypeBytes = 32;

constexpr std::string_view kDeepSeekCallsBegin = "<｜tool▁calls▁begin｜>";
constexpr std::string_view kDeepSeekCallsEnd = "<｜tool▁calls▁end｜>";
constexpr std::string_view kDeepSeekCallBegin = "<｜tool▁call▁begin｜>";
constexpr std::string_view kDeepSeekCallEnd = "<｜tool▁call▁end｜>";
constexpr std::string_view kDeepSeekSep = "<｜tool▁sep｜>";

// Reads a JSON object (the arguments) at the cursor as compact text.
ParseStep read_arguments_object(SyntaxCursor& c, std::string* out) {
  const ParseStep need = c.need_byte();
  if (need != ParseStep::kMatched) return need;
  if (c.peek() != '{') return ParseStep::kFailed;
  nlohmann::ordered_json args;
  const ParseStep step = c.json(&args);
  if (step == ParseStep::kMatched) *out = compact_json(args);
  return step;
}

// Consumes `lit` when present; kNeedMore when the text may still turn into it.
ParseStep optional_literal(SyntaxCursor& c, std::string_view lit) {
  const ParseStep step = c.literal(lit);
  return step == ParseStep::kNeedMore ? step : ParseStep::kMatched;
}

}  // namespace

std::optional<RawToolCall> python_code_call(std::string_view code) {
  size_t begin = 0;
  size_t end = code.size();
  while (begin < end && is_syntax_ws(code[begin])) ++begin;
  while (end > begin && is_syntax_ws(code[end - 1])) --end;
  if (begin == end) return std::nullopt;
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  args["code"] = std::string(code.substr(begin, end - begin));
  return RawToolCall{"python", compact_json(args), ""};
}

SectionResult parse_functionary_function_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  RawToolCall call;
  std::string_view name;
  INFERD_SECTION_TRY(c.literal("<function="));
  INFERD_SECTION_TRY(c.until_any(">", " \t\n\r<\"{}", kMaxNameBytes, &name));
  INFERD_SECTION_TRY(c.literal(">"));
  c.skip_ws();
  INFERD_SECTION_TRY(read_arguments_object(c, &call.arguments));
  c.skip_ws();
  INFERD_SECTION_TRY(c.literal("</function>"));
  call.name = std::string(name);
  std::vector<RawToolCall> calls;
  calls.push_back(std::move(call));
  return {ParseStep::kMatched, c.pos, std::move(calls)};
}

SectionResult parse_functionary_python_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  INFERD_SECTION_TRY(c.literal("<|python_tag|>"));
  // The code runs to the end of the output.
  if (!final) return {ParseStep::kNeedMore, 0, {}};
  std::optional<RawToolCall> call = python_code_call(text.substr(c.pos));
  if (!call) return {ParseStep::kFailed, 0, {}};
  std::vector<RawToolCall> calls;
  calls.push_back(std::move(*call));
  return {ParseStep::kMatched, text.size(), std::move(calls)};
}

// <｜tool▁calls▁begin｜> then per call
//   <｜tool▁call▁begin｜>TYPE<｜tool▁sep｜>NAME\n```json\n{...}\n```<｜tool▁call▁end｜>
// (fence optional) separated by whitespace, then <｜tool▁calls▁end｜>. Some DeepSeek templates
// omit the closing <｜tool▁calls▁end｜> after a single call, so a section may also end after
// its last <｜tool▁call▁end｜>.
SectionResult parse_deepseek_r1_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal(kDeepSeekCallsBegin));
  c.skip_ws();
  INFERD_SECTION_TRY(c.literal(kDeepSeekCallBegin));
  for (;;) {
    RawToolCall call;
    std::string_view type;
    std::string_view name;
    INFERD_SECTION_TRY(c.until_any("<", "\n", kMaxTypeBytes, &type));
    INFERD_SECTION_TRY(c.literal(kDeepSeekSep));
    INFERD_SECTION_TRY(c.until_any("\n", "<", kMaxNameBytes, &name));
    c.skip_ws();
    const ParseStep fence = c.literal("```json");
    if (fence == ParseStep::kNeedMore) return {fence, 0, {}};
    if (fence == ParseStep::kFailed) INFERD_SECTION_TRY(optional_literal(c, "```"));
    c.skip_ws();
    INFERD_SECTION_TRY(read_arguments_object(c, &call.arguments));
    c.skip_ws();
    INFERD_SECTION_TRY(optional_literal(c, "```"));
    c.skip_ws();
    INFERD_SECTION_TRY(c.literal(kDeepSeekCallEnd));
    call.name = std::string(name);
    calls.push_back(std::move(call));

    const size_t end = c.pos;
    c.skip_ws();
    ParseStep step = c.literal(kDeepSeekCallsEnd);
    if (step == ParseStep::kNeedMore) return {step, 0, {}};
    if (step == ParseStep::kMatched) return {ParseStep::kMatched, c.pos, std::move(calls)};
    step = c.literal(kDeepSeekCallBegin);
    if (step == ParseStep::kNeedMore) return {step, 0, {}};
    if (step == ParseStep::kFailed) return {ParseStep::kMatched, end, std::move(calls)};
  }
}

}  // namespace inferd::chat
