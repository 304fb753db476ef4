#include "chat/jinja/lexer.h"

#include <cstdio>
#include <cstdlib>

#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

// Byte length of the Python whitespace character at `pos`, or 0.
size_t space_len(std::string_view s, size_t pos) {
  const auto b = static_cast<unsigned char>(s[pos]);
  if (b < 0x80) {
    return (b == ' ' || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F)) ? 1 : 0;
  }
  size_t next = pos;
  const char32_t c = unicode::decode_next(s, next);
  return unicode::is_space(c) ? next - pos : 0;
}

size_t skip_spaces(std::string_view s, size_t pos) {
  while (pos < s.size()) {
    const size_t n = space_len(s, pos);
    if (n == 0) break;
    pos += n;
  }
  return pos;
}

// Python str.rstrip() of whitespace.
std::string_view rstrip_spaces(std::string_view s) {
  size_t end = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t n = space_len(s, pos);
    if (n == 0) {
      unicode::decode_next(s, pos);
      end = pos;
    } else {
      pos += n;
    }
  }
  return s.substr(0, end);
}

bool all_spaces(std::string_view s) {
  return !s.empty() && skip_spaces(s, 0) == s.size();
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Length of (\d+_)*\d+ at pos, or 0.
size_t digit_run(std::string_view s, size_t pos, bool (*digit)(char) = is_digit) {
  size_t i = pos;
  if (i >= s.size() || !digit(s[i])) return 0;
  while (true) {
    while (i < s.size() && digit(s[i])) ++i;
    if (i + 1 < s.size() && s[i] == '_' && digit(s[i + 1])) {
      ++i;
      continue;
    }
    break;
  }
  return i - pos;
}

class Lexer {
 public:
  Lexer(std::string_view src, const SourceMap& map, const LexerOptions& options)
      : s_(src), map_(map), options_(options) {}

  Result<std::vector<Token>> run() {
    while (pos_ < s_.size()) {
      INFERD_RETURN_IF_ERROR(lex_root());
    }
    push(TokenType::kEof, static_cast<uint32_t>(s_.size()));
    return std::move(tokens_);
  }

 private:
  enum class TagKind { kVariable, kBlock, kComment, kRaw };

  Status error(size_t offset, std::string_view message) {
    return syntax_error(map_, static_cast<uint32_t>(offset), message);
  }

  Token& push(TokenType type, size_t offset) {
    Token t;
    t.type = type;
    t.offset = static_cast<uint32_t>(offset);
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }

  // End of a raw-begin tag "{%[-+]?\s*raw\s*(-%}\s*|%})" at `i`, or npos.
  size_t match_raw_begin(size_t i) const {
    size_t p = i + 2;
    if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) ++p;
    p = skip_spaces(s_, p);
    if (s_.substr(p, 3) != "raw") return std::string_view::npos;
    p = skip_spaces(s_, p + 3);
    if (s_.substr(p, 3) == "-%}") return skip_spaces(s_, p + 3);
    if (s_.substr(p, 2) == "%}") return p + 2;
    return std::string_view::npos;
  }

  // Applies "-" (strip all whitespace before the tag) or lstrip_blocks to data before a tag.
  std::string_view strip_before_tag(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') return rstrip_spaces(text);
    if (sign != '+' && options_.lstrip_blocks && !is_variable) {
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting_) && all_spaces(text.substr(l_pos))) {
        return text.substr(0, l_pos);
      }
    }
    return text;
  }

  void emit_data(std::string_view text, size_t offset) {
    if (text.empty()) return;
    push(TokenType::kData, offset).text = std::string(text);
  }

  Status lex_root() {
    size_t i = pos_;
    TagKind kind = TagKind::kBlock;
    size_t raw_end = std::string_view::npos;
    for (; i + 1 < s_.size(); ++i) {
      if (s_[i] != '{') continue;
      const char c = s_[i + 1];
      if (c == '{') {
        kind = TagKind::kVariable;
        break;
      }
      if (c == '#') {
        kind = TagKind::kComment;
        break;
      }
      if (c == '%') {
        raw_end = match_raw_begin(i);
        kind = raw_end != std::string_view::npos ? TagKind::kRaw : TagKind::kBlock;
        break;
      }
    }
    if (i + 1 >= s_.size()) {
      emit_data(s_.substr(pos_), pos_);
      pos_ = s_.size();
      return Status::ok_status();
    }
    const char sign = (i + 2 < s_.size() && (s_[i + 2] == '-' || s_[i + 2] == '+')) ? s_[i + 2] : 0;
    emit_data(strip_before_tag(s_.substr(pos_, i - pos_), sign, kind == TagKind::kVariable), pos_);
    const size_t tag_start = i;
    switch (kind) {
      case TagKind::kRaw:
        line_starting_ = s_[raw_end - 1] == '\n';
        pos_ = raw_end;
        return lex_raw(tag_start);
      case TagKind::kComment:
        pos_ = i + 2 + (sign ? 1 : 0);
        line_starting_ = false;
        return lex_comment(tag_start);
      case TagKind::kVariable:
        push(TokenType::kVariableBegin, tag_start);
        pos_ = i + 2 + (sign ? 1 : 0);
        line_starting_ = false;
        return lex_tag(/*is_block=*/false);
      case TagKind::kBlock:
        push(TokenType::kBlockBegin, tag_start);
        pos_ = i + 2 + (sign ? 1 : 0);
        line_starting_ = false;
        return lex_tag(/*is_block=*/true);
    }
    return Status::ok_status();
  }

  // Block end at pos_: "+%}", "-%}\s*" or "%}" (plus one newline with trim_blocks).
  size_t match_block_end(size_t p) const {
    if (s_.substr(p, 3) == "+%}") return p + 3;
    if (s_.substr(p, 3) == "-%}") return skip_spaces(s_, p + 3);
    if (s_.substr(p, 2) == "%}") {
      size_t e = p + 2;
      if (options_.trim_blocks && e < s_.size() && s_[e] == '\n') ++e;
      return e;
    }
    return std::string_view::npos;
  }

  size_t match_variable_end(size_t p) const {
    if (s_.substr(p, 3) == "-}}") return skip_spaces(s_, p + 3);
    if (s_.substr(p, 2) == "}}") return p + 2;
    return std::string_view::npos;
  }

  Status lex_comment(size_t start) {
    for (size_t j = pos_; j < s_.size(); ++j) {
      size_t end = std::string_view::npos;
      if (s_[j] == '+' && s_.substr(j + 1, 2) == "#}") {
        end = j + 3;
      } else if (s_[j] == '-' && s_.substr(j + 1, 2) == "#}") {
        end = skip_spaces(s_, j + 3);
      } else if (s_.substr(j, 2) == "#}") {
        end = j + 2;
        if (options_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
      }
      if (end != std::string_view::npos) {
        line_starting_ = s_[end - 1] == '\n';
        pos_ = end;
        return Status::ok_status();
      }
    }
    return error(start, "Missing end of comment tag");
  }

  Status lex_raw(size_t start) {
    for (size_t j = pos_; j + 1 < s_.size(); ++j) {
      if (s_[j] != '{' || s_[j + 1] != '%') continue;
      size_t p = j + 2;
      char sign = 0;
      if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) sign = s_[p++];
      p = skip_spaces(s_, p);
      if (s_.substr(p, 6) != "endraw") continue;
      p = skip_spaces(s_, p + 6);
      const size_t end = match_block_end(p);
      if (end == std::string_view::npos) continue;
      emit_data(strip_before_tag(s_.substr(pos_, j - pos_), sign, false), pos_);
      line_starting_ = s_[end - 1] == '\n';
      pos_ = end;
      return Status::ok_status();
    }
    return error(start, "Missing end of raw directive");
  }

  Status lex_tag(bool is_block) {
    while (pos_ < s_.size()) {
      if (balance_.empty()) {
        const size_t end = is_block ? match_block_end(pos_) : match_variable_end(pos_);
        if (end != std::string_view::npos) {
          push(is_block ? TokenType::kBlockEnd : TokenType::kVariableEnd, pos_);
          line_starting_ = s_[end - 1] == '\n';
          pos_ = end;
          return Status::ok_status();
        }
      }
      const size_t ws_end = skip_spaces(s_, pos_);
      if (ws_end != pos_) {
        line_starting_ = s_[ws_end - 1] == '\n';
        pos_ = ws_end;
        continue;
      }
      line_starting_ = false;
      INFERD_RETURN_IF_ERROR(lex_token());
    }
    return Status::ok_status();  // end of input inside a tag: the parser reports it
  }

  bool lex_float() {
    if (pos_ > 0 && s_[pos_ - 1] == '.') return false;
    const size_t int_len = digit_run(s_, pos_);
    if (int_len == 0) return false;
    size_t p = pos_ + int_len;
    bool frac = false;
    if (p < s_.size() && s_[p] == '.') {
      const size_t n = digit_run(s_, p + 1);
      if (n > 0) {
        frac = true;
        p += 1 + n;
      }
    }
    bool exp = false;
    if (p < s_.size() && (s_[p] == 'e' || s_[p] == 'E')) {
      size_t q = p + 1;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      const size_t n = digit_run(s_, q);
      if (n > 0) {
        exp = true;
        p = q + n;
      }
    }
    if (!frac && !exp) return false;
    std::string text;
    for (size_t k = pos_; k < p; ++k) {
      if (s_[k] != '_') text.push_back(s_[k]);
    }
    Token& t = push(TokenType::kFloat, pos_);
    t.float_value = std::strtod(text.c_str(), nullptr);
    pos_ = p;
    return true;
  }

  Result<bool> lex_integer() {
    if (!is_digit(s_[pos_])) return false;
    const size_t start = pos_;
    int base = 10;
    size_t p = pos_;
    auto prefixed = [&](char lower, bool (*digit)(char)) {
      if (p + 1 >= s_.size() || s_[p] != '0' || (s_[p + 1] | 0x20) != lower) return false;
      size_t q = p + 2;
      size_t digits = 0;
      while (true) {
        size_t r = q;
        if (r < s_.size() && s_[r] == '_') ++r;
        if (r < s_.size() && digit(s_[r])) {
          q = r + 1;
          ++digits;
        } else {
          break;
        }
      }
      if (digits == 0) return false;
      p = q;
      return true;
    };
    if (prefixed('b', [](char c) { return c == '0' || c == '1'; })) {
      base = 2;
    } else if (prefixed('o', [](char c) { return c >= '0' && c <= '7'; })) {
      base = 8;
    } else if (prefixed('x', is_hex)) {
      base = 16;
    } else if (s_[p] != '0') {
      p += digit_run(s_, p);
      // digit_run requires digit groups separated by single underscores, as (_?\d)* does.
    } else {
      ++p;
      while (true) {
        size_t r = p;
        if (r < s_.size() && s_[r] == '_') ++r;
        if (r < s_.size() && s_[r] == '0') {
          p = r + 1;
        } else {
          break;
        }
      }
    }
    uint64_t value = 0;
    const size_t digits_start = base == 10 ? start : start + 2;
    for (size_t k = digits_start; k < p; ++k) {
      const char c = s_[k];
      if (c == '_') continue;
      const int d = is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
      if (value > (static_cast<uint64_t>(INT64_MAX) - static_cast<uint64_t>(d)) /
                      static_cast<uint64_t>(base)) {
        return error(start, "integer literal too large (templates use 64-bit integers)");
      }
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
    }
    Token& t = push(TokenType::kInteger, start);
    t.int_value = static_cast<int64_t>(value);
    pos_ = p;
    return true;
  }

  bool is_name_start(size_t p) const {
    const auto b = static_cast<unsigned char>(s_[p]);
    if (b >= 0x80) {
      size_t q = p;
      return unicode::is_alpha(unicode::decode_next(s_, q));
    }
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_';
  }

  size_t name_char_len(size_t p) const {
    const auto b = static_cast<unsigned char>(s_[p]);
    if (b >= 0x80) {
      size_t q = p;
      const char32_t c = unicode::decode_next(s_, q);
      return (unicode::is_word(c) || unicode::is_case_ignorable(c)) ? q - p : 0;
    }
    return ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_' ||
            is_digit(static_cast<char>(b)))
               ? 1
               : 0;
  }

  Status lex_string() {
    const char quote = s_[pos_];
    const size_t start = pos_;
    size_t p = pos_ + 1;
    while (p < s_.size() && s_[p] != quote) {
      p += s_[p] == '\\' ? 2 : 1;
    }
    if (p >= s_.size()) {
      return error(start, fmt::format("unexpected char {} at {}",
                                      string_repr(std::string(1, quote)), start));
    }
    std::string out;
    INFERD_RETURN_IF_ERROR(unescape(s_.substr(start + 1, p - start - 1), start, out));
    push(TokenType::kString, start).text = std::move(out);
    pos_ = p + 1;
    return Status::ok_status();
  }

  // Python's unicode-escape decoding, as jinja2 applies it to string literals.
  Status unescape(std::string_view body, size_t offset, std::string& out) {
    size_t i = 0;
    while (i < body.size()) {
      if (body[i] != '\\') {
        out.push_back(body[i++]);
        continue;
      }
      if (i + 1 >= body.size()) return error(offset, "\\ at end of string");
      const char c = body[i + 1];
      i += 2;
      switch (c) {
        case '\n': break;
        case '\\': out.push_back('\\'); break;
        case '\'': out.push_back('\''); break;
        case '"': out.push_back('"'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'v': out.push_back('\v'); break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
          char32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            if (i + k >= body.size() || !is_hex(body[i + k])) {
              return error(offset, c == 'x'   ? "truncated \\xXX escape"
                                   : c == 'u' ? "truncated \\uXXXX escape"
                                              : "truncated \\UXXXXXXXX escape");
            }
            const char h = body[i + k];
            cp = cp * 16 + static_cast<char32_t>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
          }
          if (cp > 0x10FFFF) return error(offset, "illegal Unicode character");
          i += n;
          unicode::append_utf8(out, cp);
          break;
        }
        case 'N': return error(offset, "\\N{...} escapes are not supported");
        default:
          if (c >= '0' && c <= '7') {
            char32_t cp = static_cast<char32_t>(c - '0');
            for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k) {
              cp = cp * 8 + static_cast<char32_t>(body[i++] - '0');
            }
            unicode::append_utf8(out, cp);
          } else if (static_cast<unsigned char>(c) >= 0x80) {
            // A backslash before a non-ASCII character escapes the first character of that
            // character's backslashreplace form (\xe9, \u20ac, \U0001f600), leaving the rest.
            size_t q = i - 1;
            const char32_t cp = unicode::decode_next(body, q);
            char buf[16];
            if (cp <= 0xFF) {
              std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(cp));
            } else if (cp <= 0xFFFF) {
              std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(cp));
            } else {
              std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(cp));
            }
            out += buf;
            i = q;
          } else {
            out.push_back('\\');
            out.push_back(c);
          }
      }
    }
    return Status::ok_status();
  }

  Status lex_operator() {
    struct Op {
      const char* text;
      TokenType type;
    };
    static constexpr Op kOps[] = {
        {"//", TokenType::kFloorDiv}, {"**", TokenType::kPow},      {"==", TokenType::kEq},
        {"!=", TokenType::kNe},       {">=", TokenType::kGe},       {"<=", TokenType::kLe},
        {"+", TokenType::kAdd},       {"-", TokenType::kSub},       {"/", TokenType::kDiv},
        {"*", TokenType::kMul},       {"%", TokenType::kMod},       {"~", TokenType::kTilde},
        {"[", TokenType::kLBracket},  {"]", TokenType::kRBracket},  {"(", TokenType::kLParen},
        {")", TokenType::kRParen},    {"{", TokenType::kLBrace},    {"}", TokenType::kRBrace},
        {">", TokenType::kGt},        {"<", TokenType::kLt},        {"=", TokenType::kAssign},
        {".", TokenType::kDot},       {":", TokenType::kColon},     {"|", TokenType::kPipe},
        {",", TokenType::kComma},     {";", TokenType::kSemicolon},
    };
    for (const Op& op : kOps) {
      const std::string_view text(op.text);
      if (s_.substr(pos_, text.size()) != text) continue;
      const char c = text[0];
      if (text.size() == 1 && (c == '(' || c == '[' || c == '{')) {
        balance_.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (text.size() == 1 && (c == ')' || c == ']' || c == '}')) {
        if (balance_.empty()) return error(pos_, fmt::format("unexpected '{}'", c));
        const char expected = balance_.back();
        balance_.pop_back();
        if (expected != c) {
          return error(pos_, fmt::format("unexpected '{}', expected '{}'", c, expected));
        }
      }
      push(op.type, pos_);
      pos_ += text.size();
      return Status::ok_status();
    }
    size_t q = pos_;
    const char32_t cp = unicode::decode_next(s_, q);
    std::string ch;
    unicode::append_utf8(ch, cp);
    return error(pos_, fmt::format("unexpected char {} at {}", string_repr(ch), pos_));
  }

  Status lex_token() {
    if (lex_float()) return Status::ok_status();
    INFERD_ASSIGN_OR_RETURN(bool is_int, lex_integer());
    if (is_int) return Status::ok_status();
    if (is_name_start(pos_)) {
      size_t p = pos_;
      while (p < s_.size()) {
        const size_t n = name_char_len(p);
        if (n == 0) break;
        p += n;
      }
      push(TokenType::kName, pos_).text = std::string(s_.substr(pos_, p - pos_));
      pos_ = p;
      return Status::ok_status();
    }
    if (s_[pos_] == '\'' || s_[pos_] == '"') return lex_string();
    return lex_operator();
  }

  std::string_view s_;
  const SourceMap& map_;
  const LexerOptions& options_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<char> balance_;
  std::vector<Token> tokens_;
};

}  // namespace

std::string_view describe_token_type(TokenType type) {
  switch (type) {
    case TokenType::kData: return "template data / text";
    case TokenType::kVariableBegin: return "begin of print statement";
    case TokenType::kVariableEnd: return "end of print statement";
    case TokenType::kBlockBegin: return "begin of statement block";
    case TokenType::kBlockEnd: return "end of statement block";
    case TokenType::kName: return "name";
    case TokenType::kString: return "string";
    case TokenType::kInteger: return "integer";
    case TokenType::kFloat: return "float";
    case TokenType::kAdd: return "+";
    case TokenType::kSub: return "-";
    case TokenType::kDiv: return "/";
    case TokenType::kFloorDiv: return "//";
    case TokenType::kMul: return "*";
    case TokenType::kMod: return "%";
    case TokenType::kPow: return "**";
    case TokenType::kTilde: return "~";
    case TokenType::kLBracket: return "[";
    case TokenType::kRBracket: return "]";
    case TokenType::kLParen: return "(";
    case TokenType::kRParen: return ")";
    case TokenType::kLBrace: return "{";
    case TokenType::kRBrace: return "}";
    case TokenType::kEq: return "==";
    case TokenType::kNe: return "!=";
    case TokenType::kGt: return ">";
    case TokenType::kGe: return ">=";
    case TokenType::kLt: return "<";
    case TokenType::kLe: return "<=";
    case TokenType::kAssign: return "=";
    case TokenType::kDot: return ".";
    case TokenType::kColon: return ":";
    case TokenType::kPipe: return "|";
    case TokenType::kComma: return ",";
    case TokenType::kSemicolon: return ";";
    case TokenType::kEof: return "end of template";
  }
  return "token";
}

std::string normalize_source(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Result<std::vector<Token>> tokenize(std::string_view source, const SourceMap& map,
                                    const LexerOptions& options) {
  Lexer lexer(source, map, options);
  return lexer.run();
}

}  // namespace inferd::chat::jinja
