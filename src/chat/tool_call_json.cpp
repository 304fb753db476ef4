#include "chat/tool_call_json.h"

#include <array>

namespace inferd::chat {
namespace {

// What the scanner expects next, outside the number and literal sub-automata.
enum class Expect : uint8_t {
  kValue,         // a value (after ':' or ',' in an array)
  kValueOrClose,  // a value or ']' (right after '[')
  kKey,           // a key string (after ',' in an object)
  kKeyOrClose,    // a key string or '}' (right after '{')
  kColon,         // ':' after a key
  kCommaOrClose,  // ',' or the closing bracket of the innermost container
  kString,        // inside a string
  kEscape,        // after a backslash inside a string
  kHex,           // inside \uXXXX
  kNumber,        // inside a number (see NumberState)
  kLiteral,       // inside true / false / null
};

// Positions inside -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
enum class NumberState : uint8_t { kMinus, kZero, kInt, kDot, kFrac, kExpMark, kExpSign, kExp };

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool number_can_end(NumberState s) {
  return s == NumberState::kZero || s == NumberState::kInt || s == NumberState::kFrac ||
         s == NumberState::kExp;
}

}  // namespace

JsonSpan scan_json_container(std::string_view text, size_t pos) {
  if (pos >= text.size()) return {ParseStep::kNeedMore, pos};
  if (text[pos] != '{' && text[pos] != '[') return {ParseStep::kFailed, pos};
  std::array<char, kMaxToolJsonDepth> stack{};
  size_t depth = 0;
  Expect expect = Expect::kValue;
  bool string_is_key = false;
  int hex_left = 0;
  NumberState number = NumberState::kInt;
  std::string_view literal;
  size_t literal_pos = 0;
  const JsonSpan failed{ParseStep::kFailed, 0};

  size_t i = pos;
  while (i < text.size()) {
    const char c = text[i];
    switch (expect) {
      case Expect::kValue:
      case Expect::kValueOrClose:
      case Expect::kKey:
      case Expect::kKeyOrClose:
        if (is_ws(c)) break;
        if (expect == Expect::kKey || expect == Expect::kKeyOrClose) {
          if (c == '"') {
            expect = Expect::kString;
            string_is_key = true;
            break;
          }
          if (c != '}' || expect != Expect::kKeyOrClose) return failed;
          --depth;
          if (depth == 0) return {ParseStep::kMatched, i + 1};
          expect = Expect::kCommaOrClose;
          break;
        }
        if (c == ']' && expect == Expect::kValueOrClose) {
          --depth;
          if (depth == 0) return {ParseStep::kMatched, i + 1};
          expect = Expect::kCommaOrClose;
          break;
        }
        if (c == '{' || c == '[') {
          if (depth == stack.size()) return failed;
          stack[depth++] = c;
          expect = c == '{' ? Expect::kKeyOrClose : Expect::kValueOrClose;
          break;
        }
        if (c == '"') {
          expect = Expect::kString;
          string_is_key = false;
          break;
        }
        if (c == '-' || is_digit(c)) {
          expect = Expect::kNumber;
          number = c == '-'   ? NumberState::kMinus
                   : c == '0' ? NumberState::kZero
                              : NumberState::kInt;
          break;
        }
        if (c == 't' || c == 'f' || c == 'n') {
          literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
          literal_pos = 1;
          expect = Expect::kLiteral;
          break;
        }
        return failed;
      case Expect::kColon:
        if (is_ws(c)) break;
        if (c != ':') return failed;
        expect = Expect::kValue;
        break;
      case Expect::kCommaOrClose:
        if (is_ws(c)) break;
        if (c == ',') {
          expect = stack[depth - 1] == '{' ? Expect::kKey : Expect::kValue;
          break;
        }
        if ((c == '}' && stack[depth - 1] == '{') || (c == ']' && stack[depth - 1] == '[')) {
          --depth;
          if (depth == 0) return {ParseStep::kMatched, i + 1};
          break;
        }
        return failed;
      case Expect::kString:
        if (c == '"') {
          expect = string_is_key ? Expect::kColon : Expect::kCommaOrClose;
        } else if (c == '\\') {
          expect = Expect::kEscape;
        } else if (static_cast<unsigned char>(c) < 0x20) {
          return failed;
        }
        break;
      case Expect::kEscape:
        if (c == 'u') {
          expect = Expect::kHex;
          hex_left = 4;
          break;
        }
        if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
            c != 't') {
          return failed;
        }
        expect = Expect::kString;
        break;
      case Expect::kHex:
        if (!is_hex(c)) return failed;
        if (--hex_left == 0) expect = Expect::kString;
        break;
      case Expect::kLiteral:
        if (c != literal[literal_pos]) return failed;
        if (++literal_pos == literal.size()) expect = Expect::kCommaOrClose;
        break;
      case Expect::kNumber: {
        const bool digit = is_digit(c);
        const bool exp_mark = c == 'e' || c == 'E';
        switch (number) {
          case NumberState::kMinus:
            if (!digit) return failed;
            number = c == '0' ? NumberState::kZero : NumberState::kInt;
            break;
          case NumberState::kZero:
          case NumberState::kInt:
            if (digit && number == NumberState::kInt) break;
            if (digit) return failed;  // leading zero
            if (c == '.')
              number = NumberState::kDot;
            else if (exp_mark)
              number = NumberState::kExpMark;
            else
              expect = Expect::kCommaOrClose;
            break;
          case NumberState::kDot:
            if (!digit) return failed;
            number = NumberState::kFrac;
            break;
          case NumberState::kFrac:
            if (digit) break;
            if (exp_mark)
              number = NumberState::kExpMark;
            else
              expect = Expect::kCommaOrClose;
            break;
          case NumberState::kExpMark:
            if (c == '+' || c == '-')
              number = NumberState::kExpSign;
            else if (digit)
              number = NumberState::kExp;
            else
              return failed;
            break;
          case NumberState::kExpSign:
            if (!digit) return failed;
            number = NumberState::kExp;
            break;
          case NumberState::kExp:
            if (!digit) expect = Expect::kCommaOrClose;
            break;
        }
        // The byte that ended the number is read again as what follows a value.
        if (expect == Expect::kCommaOrClose) {
          if (!number_can_end(number)) return failed;
          continue;
        }
        break;
      }
    }
    ++i;
  }
  return {ParseStep::kNeedMore, text.size()};
}

std::optional<nlohmann::ordered_json> parse_json_text(std::string_view text) {
  nlohmann::ordered_json value =
      nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return std::nullopt;
  return value;
}

std::string compact_json(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false,
                    nlohmann::ordered_json::error_handler_t::replace);
}

std::optional<RawToolCall> call_from_object(const nlohmann::ordered_json& object,
                                            const CallObjectKeys& keys) {
  if (!object.is_object()) return std::nullopt;
  const auto name_it = object.find(std::string(keys.name));
  if (name_it == object.end() || !name_it->is_string()) return std::nullopt;
  RawToolCall call;
  call.name = name_it->get<std::string>();
  if (call.name.empty()) return std::nullopt;

  auto args_it = object.end();
  if (!keys.arguments.empty()) args_it = object.find(std::string(keys.arguments));
  if (args_it == object.end() && !keys.arguments_alt.empty()) {
    args_it = object.find(std::string(keys.arguments_alt));
  }
  if (args_it == object.end() && keys.require_arguments) return std::nullopt;
  if (args_it == object.end() || args_it->is_null()) {
    call.arguments = "{}";
  } else if (args_it->is_object()) {
    call.arguments = compact_json(*args_it);
  } else if (args_it->is_string()) {
    // A JSON-encoded object, as OpenAI's own arguments field; checked like the outer text so
    // that nesting stays within kMaxToolJsonDepth.
    const std::string_view s = args_it->get_ref<const std::string&>();
    size_t begin = 0;
    while (begin < s.size() && is_ws(s[begin])) ++begin;
    const JsonSpan span = scan_json_container(s, begin);
    if (span.step != ParseStep::kMatched || s[begin] != '{') return std::nullopt;
    for (size_t i = span.end; i < s.size(); ++i) {
      if (!is_ws(s[i])) return std::nullopt;
    }
    std::optional<nlohmann::ordered_json> inner =
        parse_json_text(s.substr(begin, span.end - begin));
    if (!inner) return std::nullopt;
    call.arguments = compact_json(*inner);
  } else {
    return std::nullopt;
  }

  if (!keys.id.empty()) {
    const auto id_it = object.find(std::string(keys.id));
    if (id_it != object.end() && id_it->is_string()) call.id = id_it->get<std::string>();
  }
  return call;
}

}  // namespace inferd::chat
