// Section parsers of formats whose calls are JSON objects: Hermes, Llama 3.x, Mistral,
// Firefunction v2, Command-R7B and the generic bare-JSON form.
#include <utility>

#include "chat/tool_call_syntax.h"

// Returns the step from the enclosing section parser unless it matched.
#define INFERD_SECTION_TRY(expr)                                             \
  do {                                                                       \
    const ::inferd::chat::ParseStep step_ = (expr);                          \
    if (step_ != ::inferd::chat::ParseStep::kMatched) return {step_, 0, {}}; \
  } while (0)

namespace inferd::chat {
namespace {

constexpr CallObjectKeys kNameArgumentsKeys{"name", "arguments", "parameters", "", false};
constexpr CallObjectKeys kBareNameArgumentsKeys{"name", "arguments", "parameters", "", true};
constexpr CallObjectKeys kLlamaKeys{"name", "parameters", "arguments", "", true};
constexpr CallObjectKeys kMistralKeys{"name", "arguments", "parameters", "id", false};
constexpr CallObjectKeys kCommandRKeys{"tool_name", "parameters", "arguments", "", false};

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxIdBytes = 64;

SectionResult matched(size_t consumed, std::vector<RawToolCall> calls) {
  return {ParseStep::kMatched, consumed, std::move(calls)};
}

// Reads one call object at the cursor.
ParseStep read_call_object(SyntaxCursor& c, const CallObjectKeys& keys,
                           std::vector<RawToolCall>* calls) {
  const ParseStep need = c.need_byte();
  if (need != ParseStep::kMatched) return need;
  if (c.peek() != '{') return ParseStep::kFailed;
  nlohmann::ordered_json object;
  const ParseStep step = c.json(&object);
  if (step != ParseStep::kMatched) return step;
  std::optional<RawToolCall> call = call_from_object(object, keys);
  if (!call) return ParseStep::kFailed;
  calls->push_back(std::move(*call));
  return ParseStep::kMatched;
}

// Reads a JSON array of call objects at the cursor; every element must be a call.
ParseStep read_call_array(SyntaxCursor& c, const CallObjectKeys& keys,
                          std::vector<RawToolCall>* calls) {
  const ParseStep need = c.need_byte();
  if (need != ParseStep::kMatched) return need;
  if (c.peek() != '[') return ParseStep::kFailed;
  nlohmann::ordered_json array;
  const ParseStep step = c.json(&array);
  if (step != ParseStep::kMatched) return step;
  for (const auto& element : array) {
    std::optional<RawToolCall> call = call_from_object(element, keys);
    if (!call) return ParseStep::kFailed;
    calls->push_back(std::move(*call));
  }
  return ParseStep::kMatched;
}

// Llama 3.x: call objects separated by ';'. *end is set past the last call (or past a final
// trailing ';'); text after it is not part of the section.
ParseStep read_llama_calls(SyntaxCursor& c, std::vector<RawToolCall>* calls, size_t* end) {
  for (;;) {
    const ParseStep step = read_call_object(c, kLlamaKeys, calls);
    if (step != ParseStep::kMatched) return step;
    *end = c.pos;
    c.skip_ws();
    const ParseStep sep = c.literal(";");
    if (sep == ParseStep::kNeedMore) return sep;
    if (sep == ParseStep::kFailed) return ParseStep::kMatched;
    c.skip_ws();
    if (c.at_end()) {
      if (!c.final) return ParseStep::kNeedMore;
      *end = c.pos;
      return ParseStep::kMatched;
    }
    if (c.peek() != '{') return ParseStep::kMatched;
  }
}

bool is_ident_start(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}
bool is_ident_char(char ch) {
  return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

ParseStep read_identifier(SyntaxCursor& c, std::string_view* out) {
  const size_t start = c.pos;
  if (c.at_end()) return c.need_byte();
  if (!is_ident_start(c.peek())) return ParseStep::kFailed;
  while (!c.at_end() && is_ident_char(c.peek())) {
    if (c.pos - start >= kMaxNameBytes) return ParseStep::kFailed;
    ++c.pos;
  }
  if (c.at_end() && !c.final) return ParseStep::kNeedMore;  // the identifier may go on
  *out = c.text.substr(start, c.pos - start);
  return ParseStep::kMatched;
}

// A one-line Python string literal ('...' or "...") with the common escapes.
ParseStep read_python_string(SyntaxCursor& c, std::string* out) {
  const char quote = c.peek();
  ++c.pos;
  while (!c.at_end()) {
    const char ch = c.peek();
    if (ch == quote) {
      ++c.pos;
      return ParseStep::kMatched;
    }
    if (ch == '\n') return ParseStep::kFailed;
    if (ch == '\\') {
      if (c.pos + 1 >= c.text.size()) break;
      const char esc = c.text[c.pos + 1];
      switch (esc) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case '\\':
        case '\'':
        case '"': out->push_back(esc); break;
        default:
          if (esc == '\n') return ParseStep::kFailed;
          out->push_back('\\');
          out->push_back(esc);
      }
      c.pos += 2;
      continue;
    }
    out->push_back(ch);
    ++c.pos;
  }
  return c.final ? ParseStep::kFailed : ParseStep::kNeedMore;
}

// A Python keyword-argument value: a string, a number, True, False or None.
ParseStep read_python_value(SyntaxCursor& c, nlohmann::ordered_json* out) {
  const ParseStep need = c.need_byte();
  if (need != ParseStep::kMatched) return need;
  const char ch = c.peek();
  if (ch == '"' || ch == '\'') {
    std::string s;
    const ParseStep step = read_python_string(c, &s);
    if (step == ParseStep::kMatched) *out = std::move(s);
    return step;
  }
  if (ch == 'T' || ch == 'F' || ch == 'N') {
    const std::string_view lit = ch == 'T' ? "True" : ch == 'F' ? "False" : "None";
    const ParseStep step = c.literal(lit);
    if (step == ParseStep::kMatched) {
      *out = ch == 'T'   ? nlohmann::ordered_json(true)
             : ch == 'F' ? nlohmann::ordered_json(false)
                         : nlohmann::ordered_json(nullptr);
    }
    return step;
  }
  if (ch == '-' || (ch >= '0' && ch <= '9')) {
    const size_t start = c.pos;
    while (!c.at_end()) {
      const char d = c.peek();
      if (!((d >= '0' && d <= '9') || d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-')) {
        break;
      }
      if (c.pos - start >= kMaxNameBytes) return ParseStep::kFailed;
      ++c.pos;
    }
    if (c.at_end() && !c.final) return ParseStep::kNeedMore;
    std::optional<nlohmann::ordered_json> number =
        parse_json_text(c.text.substr(start, c.pos - start));
    if (!number || !number->is_number()) return ParseStep::kFailed;
    *out = std::move(*number);
    return ParseStep::kMatched;
  }
  return ParseStep::kFailed;
}

// name.call(key=value, ...) as Llama 3.1 writes built-in tool calls; the cursor is at the name.
// *head is set once "name.call(" has matched.
ParseStep read_builtin_call(SyntaxCursor& c, RawToolCall* call, bool* head) {
  std::string_view name;
  ParseStep step = read_identifier(c, &name);
  if (step != ParseStep::kMatched) return step;
  step = c.literal(".call(");
  if (step != ParseStep::kMatched) return step;
  *head = true;
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  c.skip_ws();
  for (;;) {
    step = c.need_byte();
    if (step != ParseStep::kMatched) return step;
    if (c.peek() == ')') break;
    std::string_view key;
    step = read_identifier(c, &key);
    if (step != ParseStep::kMatched) return step;
    c.skip_ws();
    step = c.literal("=");
    if (step != ParseStep::kMatched) return step;
    c.skip_ws();
    nlohmann::ordered_json value;
    step = read_python_value(c, &value);
    if (step != ParseStep::kMatched) return step;
    args[std::string(key)] = std::move(value);
    c.skip_ws();
    step = c.need_byte();
    if (step != ParseStep::kMatched) return step;
    if (c.peek() == ',') {
      ++c.pos;
      c.skip_ws();
    } else if (c.peek() != ')') {
      return ParseStep::kFailed;
    }
  }
  ++c.pos;  // ')'
  call->name = std::string(name);
  call->arguments = compact_json(args);
  return ParseStep::kMatched;
}

}  // namespace

SectionResult parse_hermes_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal("<tool_call>"));
  c.skip_ws();
  INFERD_SECTION_TRY(read_call_object(c, kNameArgumentsKeys, &calls));
  c.skip_ws();
  INFERD_SECTION_TRY(c.literal("</tool_call>"));
  return matched(c.pos, std::move(calls));
}

SectionResult parse_llama3_json_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  size_t end = 0;
  INFERD_SECTION_TRY(read_llama_calls(c, &calls, &end));
  return matched(end, std::move(calls));
}

SectionResult parse_llama3_python_tag_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal("<|python_tag|>"));
  c.skip_ws();
  INFERD_SECTION_TRY(c.need_byte());
  if (c.peek() == '{') {
    size_t end = 0;
    INFERD_SECTION_TRY(read_llama_calls(c, &calls, &end));
    return matched(end, std::move(calls));
  }
  const size_t body = c.pos;
  RawToolCall call;
  bool head = false;
  const ParseStep step = read_builtin_call(c, &call, &head);
  if (step == ParseStep::kNeedMore || (step == ParseStep::kFailed && head)) return {step, 0, {}};
  if (step == ParseStep::kMatched) {
    calls.push_back(std::move(call));
    return matched(c.pos, std::move(calls));
  }
  // Anything else after the tag is code for the Python interpreter, up to the end.
  if (!final) return {ParseStep::kNeedMore, 0, {}};
  std::optional<RawToolCall> code = python_code_call(text.substr(body));
  if (!code) return {ParseStep::kFailed, 0, {}};
  calls.push_back(std::move(*code));
  return matched(text.size(), std::move(calls));
}

SectionResult parse_mistral_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal("[TOOL_CALLS]"));
  c.skip_ws();
  INFERD_SECTION_TRY(c.need_byte());
  if (c.peek() == '[') {
    INFERD_SECTION_TRY(read_call_array(c, kMistralKeys, &calls));
    return matched(c.pos, std::move(calls));
  }
  // name[CALL_ID]id[ARGS]{...}, [CALL_ID] and [ARGS] optional.
  RawToolCall call;
  std::string_view name;
  INFERD_SECTION_TRY(c.until_any("[{", " \t\n\r\"<>", kMaxNameBytes, &name));
  ParseStep step = c.literal("[CALL_ID]");
  if (step == ParseStep::kNeedMore) return {step, 0, {}};
  if (step == ParseStep::kMatched) {
    std::string_view id;
    INFERD_SECTION_TRY(c.until_any("[{", " \t\n\r\"<>", kMaxIdBytes, &id));
    call.id = std::string(id);
  }
  step = c.literal("[ARGS]");
  if (step == ParseStep::kNeedMore) return {step, 0, {}};
  INFERD_SECTION_TRY(c.need_byte());
  if (c.peek() != '{') return {ParseStep::kFailed, 0, {}};
  nlohmann::ordered_json args;
  INFERD_SECTION_TRY(c.json(&args));
  call.name = std::string(name);
  call.arguments = compact_json(args);
  calls.push_back(std::move(call));
  return matched(c.pos, std::move(calls));
}

SectionResult parse_firefunction_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal("functools"));
  INFERD_SECTION_TRY(read_call_array(c, kNameArgumentsKeys, &calls));
  return matched(c.pos, std::move(calls));
}

SectionResult parse_command_r7b_action_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.literal("<|START_ACTION|>"));
  c.skip_ws();
  INFERD_SECTION_TRY(read_call_array(c, kCommandRKeys, &calls));
  c.skip_ws();
  INFERD_SECTION_TRY(c.literal("<|END_ACTION|>"));
  return matched(c.pos, std::move(calls));
}

SectionResult parse_generic_json_section(std::string_view text, bool final) {
  SyntaxCursor c{text, 0, final};
  std::vector<RawToolCall> calls;
  INFERD_SECTION_TRY(c.need_byte());
  if (c.peek() == '[') {
    INFERD_SECTION_TRY(read_call_array(c, kBareNameArgumentsKeys, &calls));
    if (calls.empty()) return {ParseStep::kFailed, 0, {}};
  } else {
    INFERD_SECTION_TRY(read_call_object(c, kBareNameArgumentsKeys, &calls));
  }
  return matched(c.pos, std::move(calls));
}

}  // namespace inferd::chat
