#include "engine/grammar/gbnf_parser.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "tokenizer/utf8.h"

namespace inferd::engine {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr int kMaxNesting = 200;

class GbnfParser {
 public:
  GbnfParser(std::string_view text, Grammar& grammar) : text_(text), g_(grammar) {}

  Status parse() {
    skip_space();
    while (pos_ < text_.size()) {
      const size_t name_pos = pos_;
      const std::string name = parse_name();
      if (name.empty()) return error("expected a rule name");
      rule_name_ = name;
      skip_space();
      if (text_.substr(pos_, 3) != "::=") return error("expected '::=' after the rule name");
      pos_ += 3;
      const RuleId id = declare(name, name_pos);
      if (g_.rule(id).body >= 0) {
        pos_ = name_pos;
        return error(fmt::format("rule \"{}\" is defined twice", name));
      }
      INFERD_ASSIGN_OR_RETURN(const ExprId body, parse_alternatives(0));
      g_.set_body(id, body);
      skip_space();
    }
    // Every rule used must be defined, here or before.
    for (const auto& [rule, ref_pos] : references_) {
      if (g_.rule(rule).body >= 0) continue;
      pos_ = ref_pos;
      rule_name_.clear();
      return error(fmt::format("rule \"{}\" is used but never defined", g_.rule(rule).name));
    }
    return {};
  }

 private:
  RuleId declare(const std::string& name, size_t at) {
    RuleId id = g_.find_rule(name);
    if (id == kNoRule) id = g_.add_rule(name);
    references_.push_back({id, at});
    return id;
  }

  Status error(const std::string& message) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    if (rule_name_.empty())
      return invalid_argument("GBNF line {}, column {}: {}", line, column, message);
    return invalid_argument("GBNF line {}, column {} (rule \"{}\"): {}", line, column, rule_name_,
                            message);
  }

  void skip_space() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }

  // Whether a new rule definition (`name ::=`) starts at pos_.
  bool at_definition() const {
    size_t p = pos_;
    while (p < text_.size() && is_name_char(text_[p])) ++p;
    if (p == pos_) return false;
    while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\n' ||
                                text_[p] == '\r'))
      ++p;
    return text_.substr(p, 3) == "::=";
  }

  Result<ExprId> parse_alternatives(int depth) {
    std::vector<ExprId> alternatives;
    while (true) {
      INFERD_ASSIGN_OR_RETURN(const ExprId seq, parse_sequence(depth));
      alternatives.push_back(seq);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    return g_.choice(std::move(alternatives));
  }

  Result<ExprId> parse_sequence(int depth) {
    std::vector<ExprId> items;
    while (true) {
      skip_space();
      if (pos_ >= text_.size()) break;
      const char c = text_[pos_];
      if (c == '|' || c == ')') break;
      if (is_name_char(c) && at_definition()) break;
      INFERD_ASSIGN_OR_RETURN(ExprId item, parse_atom(depth));
      INFERD_ASSIGN_OR_RETURN(item, parse_quantifiers(item));
      items.push_back(item);
    }
    if (pos_ < text_.size() && text_[pos_] == ')' && depth == 0) return error("unbalanced ')'");
    return g_.sequence(std::move(items));
  }

  Result<ExprId> parse_atom(int depth) {
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      INFERD_ASSIGN_OR_RETURN(std::string s, parse_quoted('"'));
      return g_.literal(s);
    }
    if (c == '[') return parse_class();
    if (c == '.') {
      ++pos_;
      return g_.chars(CharSet::any());
    }
    if (c == '(') {
      if (depth >= kMaxNesting) return error("parentheses nested too deeply");
      const size_t open = pos_;
      ++pos_;
      INFERD_ASSIGN_OR_RETURN(const ExprId inner, parse_alternatives(depth + 1));
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ')') {
        if (pos_ >= text_.size()) pos_ = open;
        return error("expected ')'");
      }
      ++pos_;
      return inner;
    }
    if (c == '@') {
      ++pos_;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        INFERD_ASSIGN_OR_RETURN(std::string s, parse_quoted('"'));
        if (s.empty()) return error("empty token text");
        return g_.token(std::move(s));
      }
      if (pos_ < text_.size() && is_digit(text_[pos_])) {
        INFERD_ASSIGN_OR_RETURN(const int32_t id, parse_int());
        return g_.token_id(id);
      }
      return error("expected a quoted token text or a token id after '@'");
    }
    if (is_name_char(c)) {
      const size_t at = pos_;
      const std::string name = parse_name();
      return g_.ref(declare(name, at));
    }
    if (c == '*' || c == '+' || c == '?' || c == '{')
      return error(fmt::format("'{}' follows nothing it could repeat", c));
    return error(fmt::format("unexpected character '{}'", c));
  }

  Result<int32_t> parse_int() {
    const size_t start = pos_;
    int64_t v = 0;
    while (pos_ < text_.size() && is_digit(text_[pos_])) {
      v = v * 10 + (text_[pos_] - '0');
      if (v > Grammar::kMaxRepeat * 100LL) {
        pos_ = start;
        return error("number too large");
      }
      ++pos_;
    }
    if (pos_ == start) return error("expected a number");
    return static_cast<int32_t>(v);
  }

  Result<ExprId> parse_quantifiers(ExprId item) {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '?') {
        item = g_.optional(item);
      } else if (c == '*') {
        item = g_.star(item);
      } else if (c == '+') {
        item = g_.plus(item);
      } else if (c == '{') {
        const size_t open = pos_;
        ++pos_;
        skip_space();
        int32_t lo = 0, hi = 0;
        if (pos_ < text_.size() && text_[pos_] == ',') {
          lo = 0;
        } else {
          INFERD_ASSIGN_OR_RETURN(lo, parse_int());
        }
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          skip_space();
          if (pos_ < text_.size() && text_[pos_] == '}') {
            hi = Grammar::kUnbounded;
          } else {
            INFERD_ASSIGN_OR_RETURN(hi, parse_int());
          }
        } else {
          hi = lo;
        }
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '}') return error("expected '}' to close the repetition");
        if (hi != Grammar::kUnbounded && hi < lo) {
          pos_ = open;
          return error(fmt::format("repetition {{{},{}}} has its maximum below its minimum", lo, hi));
        }
        if (lo > Grammar::kMaxRepeat || hi > Grammar::kMaxRepeat) {
          pos_ = open;
          return error(fmt::format("repetition bound above {}", Grammar::kMaxRepeat));
        }
        item = g_.repeat(item, lo, hi);
      } else {
        break;
      }
      ++pos_;
    }
    return item;
  }

  // One escape after the backslash at pos_ - 1; returns the code point.
  Result<uint32_t> parse_escape() {
    if (pos_ >= text_.size()) return error("unterminated escape");
    const char c = text_[pos_++];
    switch (c) {
      case 'n': return uint32_t{'\n'};
      case 'r': return uint32_t{'\r'};
      case 't': return uint32_t{'\t'};
      case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/':
        return static_cast<uint32_t>(static_cast<unsigned char>(c));
      case 'x': return parse_hex(2);
      case 'u': return parse_hex(4);
      case 'U': return parse_hex(8);
      default: break;
    }
    --pos_;
    return error(fmt::format("unknown escape '\\{}'", c));
  }

  Result<uint32_t> parse_hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const int d = pos_ < text_.size() ? hex_value(text_[pos_]) : -1;
      if (d < 0) return error(fmt::format("expected {} hexadecimal digits", digits));
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    if (v > kMaxCodepoint || (v >= kSurrogateFirst && v <= kSurrogateLast)) {
      pos_ -= static_cast<size_t>(digits);
      return error(fmt::format("escape U+{:X} is not a Unicode scalar value", v));
    }
    return v;
  }

  // One (possibly escaped) character at pos_.
  Result<uint32_t> parse_char() {
    if (text_[pos_] == '\\') {
      ++pos_;
      return parse_escape();
    }
    if (tokenizer::utf8_valid_length(text_, pos_) == 0) return error("invalid UTF-8");
    return tokenizer::utf8_decode(text_, pos_);
  }

  // The body of a quoted string up to `quote` (pos_ is after the opening quote).
  Result<std::string> parse_quoted(char quote) {
    const size_t open = pos_ - 1;
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        pos_ = open;
        return error("unterminated literal");
      }
      if (text_[pos_] == quote) {
        ++pos_;
        return out;
      }
      INFERD_ASSIGN_OR_RETURN(const uint32_t cp, parse_char());
      tokenizer::utf8_append(out, cp);
    }
  }

  Result<ExprId> parse_class() {
    const size_t open = pos_;
    ++pos_;
    bool negated = false;
    if (pos_ < text_.size() && text_[pos_] == '^') {
      negated = true;
      ++pos_;
    }
    std::vector<CodepointRange> ranges;
    while (true) {
      if (pos_ >= text_.size()) {
        pos_ = open;
        return error("unterminated character class");
      }
      if (text_[pos_] == ']') {
        ++pos_;
        break;
      }
      INFERD_ASSIGN_OR_RETURN(const uint32_t first, parse_char());
      uint32_t last = first;
      if (pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        INFERD_ASSIGN_OR_RETURN(last, parse_char());
        if (last < first) return error(fmt::format("range end U+{:04X} before its start U+{:04X}", last, first));
      }
      ranges.push_back({first, last});
    }
    CharSet set(ranges);
    if (negated) set = set.complement();
    if (set.empty()) {
      pos_ = open;
      return error("character class matches no character");
    }
    return g_.chars(std::move(set));
  }

  std::string_view text_;
  Grammar& g_;
  size_t pos_ = 0;
  std::string rule_name_;
  std::vector<std::pair<RuleId, size_t>> references_;  // every use and definition, with position
};

}  // namespace

Status parse_gbnf_into(std::string_view text, Grammar& grammar) {
  GbnfParser parser(text, grammar);
  return parser.parse();
}

Result<Grammar> parse_gbnf(std::string_view text, std::string_view root_name) {
  Grammar g;
  INFERD_RETURN_IF_ERROR(parse_gbnf_into(text, g));
  const RuleId root = g.find_rule(root_name);
  if (root == kNoRule) return invalid_argument("GBNF: no rule named \"{}\"", root_name);
  g.set_root(root);
  INFERD_RETURN_IF_ERROR(g.validate());
  return g;
}

}  // namespace inferd::engine
