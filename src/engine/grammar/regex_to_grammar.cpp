#include "engine/grammar/regex_to_grammar.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "tokenizer/utf8.h"

namespace inferd::engine {
namespace {

constexpr int kMaxDepth = 100;

const CharSet& digit_set() {
  static const CharSet s({{'0', '9'}});
  return s;
}
const CharSet& word_set() {
  static const CharSet s({{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
  return s;
}
// ECMA-262 WhiteSpace and LineTerminator.
const CharSet& space_set() {
  static const CharSet s({{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A},
                          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000},
                          {0xFEFF, 0xFEFF}});
  return s;
}
const CharSet& dot_set() {
  static const CharSet s = CharSet({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}).complement();
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_syntax_char(uint32_t c) {
  return c < 0x80 && std::string_view("^$\\.*+?()[]{}|/-,:=!<>'\"#%&~`@;_ ").find(static_cast<char>(c)) !=
                         std::string_view::npos;
}

class RegexParser {
 public:
  RegexParser(Grammar& g, std::string_view p, const CharEmitter& emit) : g_(g), p_(p), emit_(emit) {}

  Result<ExprId> parse() {
    bool anchored_start = false, anchored_end = false;
    if (!p_.empty() && p_[0] == '^') {
      anchored_start = true;
      ++pos_;
    }
    std::string_view body = p_;
    if (!body.empty() && body.back() == '$' && !escaped_at(body.size() - 1)) {
      anchored_end = true;
      end_ = body.size() - 1;
    } else {
      end_ = body.size();
    }
    bool top_alternation = false;
    INFERD_ASSIGN_OR_RETURN(const ExprId inner, parse_alternation(0, &top_alternation));
    if (pos_ < end_) return error(pos_, fmt::format("unexpected '{}'", p_[pos_]));
    if (top_alternation && (anchored_start || anchored_end))
      return error(0, "anchors with top-level alternation are not supported; group the alternatives, "
                      "as in ^(a|b)$");
    std::vector<ExprId> items;
    if (!anchored_start) items.push_back(g_.star(emit_(g_, CharSet::any())));
    items.push_back(inner);
    if (!anchored_end) items.push_back(g_.star(emit_(g_, CharSet::any())));
    return g_.sequence(std::move(items));
  }

 private:
  // Whether the character at i is preceded by an odd number of backslashes.
  bool escaped_at(size_t i) const {
    size_t n = 0;
    while (i > n && p_[i - n - 1] == '\\') ++n;
    return n % 2 == 1;
  }

  Status error(size_t at, const std::string& message) const {
    return unsupported("pattern \"{}\": {} at offset {}", p_, message, at);
  }

  bool at_end() const { return pos_ >= end_; }

  Result<ExprId> parse_alternation(int depth, bool* has_alternation) {
    if (depth > kMaxDepth) return error(pos_, "groups nested too deeply");
    std::vector<ExprId> alternatives;
    while (true) {
      INFERD_ASSIGN_OR_RETURN(const ExprId seq, parse_sequence(depth));
      alternatives.push_back(seq);
      if (!at_end() && p_[pos_] == '|') {
        ++pos_;
        if (has_alternation) *has_alternation = true;
        continue;
      }
      break;
    }
    return g_.choice(std::move(alternatives));
  }

  Result<ExprId> parse_sequence(int depth) {
    std::vector<ExprId> items;
    while (!at_end() && p_[pos_] != '|' && p_[pos_] != ')') {
      INFERD_ASSIGN_OR_RETURN(ExprId atom, parse_atom(depth));
      INFERD_ASSIGN_OR_RETURN(atom, parse_quantifier(atom));
      items.push_back(atom);
    }
    return g_.sequence(std::move(items));
  }

  // Parses {n}, {n,}, {n,m} at pos_; false (pos_ unchanged) when the text is not a quantifier.
  bool parse_braces(int64_t& lo, int64_t& hi) {
    size_t p = pos_ + 1;
    auto number = [&](int64_t& v) {
      const size_t start = p;
      v = 0;
      while (p < end_ && p_[p] >= '0' && p_[p] <= '9') {
        v = std::min<int64_t>(v * 10 + (p_[p] - '0'), int64_t{1} << 40);
        ++p;
      }
      return p > start;
    };
    if (!number(lo)) return false;
    hi = lo;
    if (p < end_ && p_[p] == ',') {
      ++p;
      if (!number(hi)) hi = -1;
    }
    if (p >= end_ || p_[p] != '}') return false;
    pos_ = p + 1;
    return true;
  }

  Result<ExprId> parse_quantifier(ExprId atom) {
    if (at_end()) return atom;
    const size_t at = pos_;
    int64_t lo = 0, hi = 0;
    const char c = p_[pos_];
    if (c == '*') {
      lo = 0, hi = -1, ++pos_;
    } else if (c == '+') {
      lo = 1, hi = -1, ++pos_;
    } else if (c == '?') {
      lo = 0, hi = 1, ++pos_;
    } else if (c == '{') {
      if (!parse_braces(lo, hi)) return atom;  // a literal '{' follows
    } else {
      return atom;
    }
    if (!at_end() && p_[pos_] == '?') ++pos_;  // lazy: same language
    if (hi >= 0 && hi < lo) return error(at, "repetition maximum below its minimum");
    if (lo > kMaxRegexRepeat || hi > kMaxRegexRepeat)
      return error(at, fmt::format("repetition bound above {}", kMaxRegexRepeat));
    if (!at_end() && (p_[pos_] == '*' || p_[pos_] == '+' || p_[pos_] == '?' || p_[pos_] == '{')) {
      int64_t unused_lo, unused_hi;
      if (p_[pos_] != '{' || parse_braces(unused_lo, unused_hi)) return error(pos_, "nothing to repeat");
    }
    return g_.repeat(atom, static_cast<int32_t>(lo), hi < 0 ? Grammar::kUnbounded : static_cast<int32_t>(hi));
  }

  Result<ExprId> parse_atom(int depth) {
    const size_t at = pos_;
    const char c = p_[pos_];
    switch (c) {
      case '(': {
        ++pos_;
        if (p_.substr(pos_, 1) == "?") {
          if (p_.substr(pos_, 2) == "?:") {
            pos_ += 2;
          } else if (p_.substr(pos_, 3) == "?<=" || p_.substr(pos_, 3) == "?<!" ||
                     p_.substr(pos_, 2) == "?=" || p_.substr(pos_, 2) == "?!") {
            return error(at, "lookaround is not supported");
          } else if (p_.substr(pos_, 2) == "?<") {
            const size_t close = p_.find('>', pos_);
            if (close == std::string_view::npos || close >= end_) return error(at, "unterminated group name");
            pos_ = close + 1;
          } else {
            return error(at, "unsupported group syntax");
          }
        }
        INFERD_ASSIGN_OR_RETURN(const ExprId inner, parse_alternation(depth + 1, nullptr));
        if (at_end() || p_[pos_] != ')') return error(at, "unterminated group");
        ++pos_;
        return inner;
      }
      case ')': return error(at, "unbalanced ')'");
      case '*': case '+': case '?': return error(at, "nothing to repeat");
      case '[': return parse_class();
      case '.': ++pos_; return emit_(g_, dot_set());
      case '^': return error(at, "'^' is only supported at the start of the pattern");
      case '$': return error(at, "'$' is only supported at the end of the pattern");
      case '\\': {
        ++pos_;
        INFERD_ASSIGN_OR_RETURN(const CharSet set, parse_escape(false));
        return emit_(g_, set);
      }
      default: break;
    }
    if (c == '{') {
      int64_t lo, hi;
      if (parse_braces(lo, hi)) {
        pos_ = at;
        return error(at, "nothing to repeat");
      }
    }
    INFERD_ASSIGN_OR_RETURN(const uint32_t cp, parse_literal_char());
    return emit_(g_, CharSet::single(cp));
  }

  Result<uint32_t> parse_literal_char() {
    if (tokenizer::utf8_valid_length(p_, pos_) == 0) return error(pos_, "invalid UTF-8");
    return tokenizer::utf8_decode(p_, pos_);
  }

  Result<uint32_t> parse_hex(size_t digits) {
    uint32_t v = 0;
    for (size_t i = 0; i < digits; ++i) {
      const int d = pos_ < end_ ? hex_value(p_[pos_]) : -1;
      if (d < 0) return error(pos_, "bad hexadecimal escape");
      v = v * 16 + static_cast<uint32_t>(d);
      ++pos_;
    }
    return v;
  }

  // \u escapes: \uHHHH (a surrogate pair of two of them combines) or \u{H...}.
  Result<uint32_t> parse_unicode_escape(size_t at) {
    uint32_t cp = 0;
    if (pos_ < end_ && p_[pos_] == '{') {
      ++pos_;
      size_t n = 0;
      while (pos_ < end_ && p_[pos_] != '}') {
        const int d = hex_value(p_[pos_]);
        if (d < 0 || ++n > 6) return error(at, "bad \\u{...} escape");
        cp = cp * 16 + static_cast<uint32_t>(d);
        ++pos_;
      }
      if (pos_ >= end_ || n == 0) return error(at, "bad \\u{...} escape");
      ++pos_;
    } else {
      INFERD_ASSIGN_OR_RETURN(cp, parse_hex(4));
      if (cp >= 0xD800 && cp <= 0xDBFF && p_.substr(pos_, 2) == "\\u") {
        const size_t save = pos_;
        pos_ += 2;
        auto low = parse_hex(4);
        if (low.ok() && *low >= 0xDC00 && *low <= 0xDFFF) return 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
        pos_ = save;
      }
    }
    if (cp > kMaxCodepoint || (cp >= kSurrogateFirst && cp <= kSurrogateLast))
      return error(at, fmt::format("escape U+{:X} is not a Unicode scalar value", cp));
    return cp;
  }

  // After a backslash: the set of characters the escape stands for.
  Result<CharSet> parse_escape(bool in_class) {
    const size_t at = pos_ - 1;
    if (at_end()) return error(at, "pattern ends with a backslash");
    const char c = p_[pos_++];
    switch (c) {
      case 'd': return digit_set();
      case 'D': return digit_set().complement();
      case 'w': return word_set();
      case 'W': return word_set().complement();
      case 's': return space_set();
      case 'S': return space_set().complement();
      case 't': return CharSet::single('\t');
      case 'n': return CharSet::single('\n');
      case 'r': return CharSet::single('\r');
      case 'v': return CharSet::single('\v');
      case 'f': return CharSet::single('\f');
      case '0':
        if (!at_end() && p_[pos_] >= '0' && p_[pos_] <= '9') return error(at, "octal escapes are not supported");
        return CharSet::single(0);
      case 'b':
        if (in_class) return CharSet::single('\b');
        return error(at, "word boundaries (\\b) are not supported");
      case 'B': return error(at, "word boundaries (\\B) are not supported");
      case 'c': {
        if (at_end() || !((p_[pos_] >= 'a' && p_[pos_] <= 'z') || (p_[pos_] >= 'A' && p_[pos_] <= 'Z')))
          return error(at, "bad \\c escape");
        return CharSet::single(static_cast<uint32_t>(p_[pos_++]) % 32);
      }
      case 'x': {
        INFERD_ASSIGN_OR_RETURN(const uint32_t v, parse_hex(2));
        return CharSet::single(v);
      }
      case 'u': {
        INFERD_ASSIGN_OR_RETURN(const uint32_t v, parse_unicode_escape(at));
        return CharSet::single(v);
      }
      case 'p': case 'P': return error(at, "Unicode property escapes are not supported");
      case 'k': return error(at, "named back-references are not supported");
      default: break;
    }
    if (c >= '1' && c <= '9') return error(at, "back-references are not supported");
    const auto uc = static_cast<uint32_t>(static_cast<unsigned char>(c));
    if (is_syntax_char(uc)) return CharSet::single(uc);
    return error(at, fmt::format("unknown escape '\\{}'", c));
  }

  Result<ExprId> parse_class() {
    const size_t at = pos_;
    ++pos_;
    bool negated = false;
    if (!at_end() && p_[pos_] == '^') {
      negated = true;
      ++pos_;
    }
    CharSet set;
    while (true) {
      if (at_end()) return error(at, "unterminated character class");
      if (p_[pos_] == ']') {
        ++pos_;
        break;
      }
      // One class atom: a single character (possibly a range start) or a class escape.
      auto atom = [&]() -> Result<CharSet> {
        if (p_[pos_] == '\\') {
          ++pos_;
          return parse_escape(true);
        }
        INFERD_ASSIGN_OR_RETURN(const uint32_t cp, parse_literal_char());
        return CharSet::single(cp);
      };
      INFERD_ASSIGN_OR_RETURN(const CharSet lo, atom());
      if (pos_ + 1 < end_ && p_[pos_] == '-' && p_[pos_ + 1] != ']') {
        const size_t dash = pos_;
        ++pos_;
        INFERD_ASSIGN_OR_RETURN(const CharSet hi, atom());
        if (lo.size() != 1 || hi.size() != 1) return error(dash, "class escape used as a range end");
        const uint32_t a = lo.ranges()[0].first, b = hi.ranges()[0].first;
        if (b < a) return error(dash, "range out of order");
        set = set.united(CharSet({{a, b}}));
        continue;
      }
      set = set.united(lo);
    }
    if (negated) set = set.complement();
    if (set.empty()) return error(at, "character class matches nothing");
    return emit_(g_, set);
  }

  Grammar& g_;
  std::string_view p_;
  const CharEmitter& emit_;
  size_t pos_ = 0;
  size_t end_ = 0;
};

}  // namespace

ExprId emit_plain_chars(Grammar& g, const CharSet& set) { return g.chars(set); }

Result<ExprId> regex_to_expr(Grammar& g, std::string_view pattern, const CharEmitter& emit) {
  RegexParser parser(g, pattern, emit);
  return parser.parse();
}

}  // namespace inferd::engine
