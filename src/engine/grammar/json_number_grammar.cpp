#include "engine/grammar/json_number_grammar.h"

#include <algorithm>
#include <string>
#include <vector>

namespace inferd::engine {
namespace {

// One digit position: a digit in [lo, hi].
struct DigitRange {
  char lo;
  char hi;
};
using DigitPattern = std::vector<DigitRange>;

// Patterns for the numerals of equal length from a to b (a <= b as strings), after `prefix`.
void same_length(const std::string& a, const std::string& b, DigitPattern prefix,
                 std::vector<DigitPattern>& out) {
  if (a.empty()) {
    out.push_back(std::move(prefix));
    return;
  }
  const std::string a_rest = a.substr(1), b_rest = b.substr(1);
  if (a[0] == b[0]) {
    prefix.push_back({a[0], a[0]});
    same_length(a_rest, b_rest, std::move(prefix), out);
    return;
  }
  const bool low_full = a_rest.find_first_not_of('0') == std::string::npos;
  const bool high_full = b_rest.find_first_not_of('9') == std::string::npos;
  if (!low_full) {
    DigitPattern p = prefix;
    p.push_back({a[0], a[0]});
    same_length(a_rest, std::string(a_rest.size(), '9'), std::move(p), out);
  }
  const char first_full = low_full ? a[0] : static_cast<char>(a[0] + 1);
  const char last_full = high_full ? b[0] : static_cast<char>(b[0] - 1);
  if (first_full <= last_full) {
    DigitPattern p = prefix;
    p.push_back({first_full, last_full});
    for (size_t i = 0; i < a_rest.size(); ++i) p.push_back({'0', '9'});
    out.push_back(std::move(p));
  }
  if (!high_full) {
    DigitPattern p = prefix;
    p.push_back({b[0], b[0]});
    same_length(std::string(b_rest.size(), '0'), b_rest, std::move(p), out);
  }
}

int64_t pow10(int n) {
  int64_t v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// Numerals (no leading zeros) of the values in [lo, hi], 0 <= lo <= hi.
std::vector<DigitPattern> unsigned_range(int64_t lo, int64_t hi) {
  std::vector<DigitPattern> out;
  const int lo_len = static_cast<int>(std::to_string(lo).size());
  const int hi_len = static_cast<int>(std::to_string(hi).size());
  for (int len = lo_len; len <= hi_len; ++len) {
    const int64_t a = std::max(lo, len == 1 ? int64_t{0} : pow10(len - 1));
    const int64_t b = std::min(hi, pow10(len) - 1);
    if (a <= b) same_length(std::to_string(a), std::to_string(b), {}, out);
  }
  return out;
}

ExprId pattern_expr(Grammar& g, const DigitPattern& p) {
  std::vector<ExprId> items;
  size_t i = 0;
  while (i < p.size()) {
    // Runs of [0-9] become one counted repetition.
    if (p[i].lo == '0' && p[i].hi == '9') {
      size_t j = i;
      while (j < p.size() && p[j].lo == '0' && p[j].hi == '9') ++j;
      const auto n = static_cast<int32_t>(j - i);
      items.push_back(g.repeat(g.chars(CharSet({{'0', '9'}})), n, n));
      i = j;
      continue;
    }
    if (p[i].lo == p[i].hi) {
      items.push_back(g.literal(std::string(1, p[i].lo)));
    } else {
      items.push_back(g.chars(CharSet({{static_cast<uint32_t>(p[i].lo), static_cast<uint32_t>(p[i].hi)}})));
    }
    ++i;
  }
  return g.sequence(std::move(items));
}

// Integer parts in [lo, hi] (0 <= lo <= hi) as one expression.
ExprId magnitude_expr(Grammar& g, int64_t lo, int64_t hi) {
  std::vector<ExprId> alternatives;
  for (const DigitPattern& p : unsigned_range(lo, hi)) alternatives.push_back(pattern_expr(g, p));
  return g.choice(std::move(alternatives));
}

ExprId digit(Grammar& g) { return g.chars(CharSet({{'0', '9'}})); }

// "." and a fraction of any digits.
ExprId any_fraction(Grammar& g) {
  return g.sequence({g.literal("."), g.repeat(digit(g), 1, kMaxFractionDigits)});
}
// A fraction whose digits are all zero.
ExprId zero_fraction(Grammar& g) {
  return g.sequence({g.literal("."), g.repeat(g.literal("0"), 1, kMaxFractionDigits)});
}
// A fraction with a nonzero digit: zeros, a nonzero digit, then any digits (within the limit).
ExprId nonzero_fraction(Grammar& g) {
  const int32_t half = kMaxFractionDigits / 2;
  return g.sequence({g.literal("."), g.repeat(g.literal("0"), 0, half - 1),
                     g.chars(CharSet({{'1', '9'}})), g.repeat(digit(g), 0, half)});
}

// Magnitudes m = I.F (I integer part, optional fraction F) with lo <= m <= hi under the
// exclusivity flags; 0 <= lo.value <= hi.value. Adds alternatives to `out`.
void magnitude_pieces(Grammar& g, NumberBound lo, NumberBound hi, std::vector<ExprId>& out) {
  const int64_t a = lo.value, b = hi.value;
  if (a == b) {
    if (!lo.exclusive && !hi.exclusive)
      out.push_back(g.sequence({magnitude_expr(g, a, a), g.optional(zero_fraction(g))}));
    return;
  }
  // I == a: any fraction (a.F < a + 1 <= b), or only a nonzero one when a itself is excluded.
  out.push_back(g.sequence({magnitude_expr(g, a, a),
                            lo.exclusive ? nonzero_fraction(g) : g.optional(any_fraction(g))}));
  // a < I < b: any fraction.
  if (b - a >= 2)
    out.push_back(g.sequence({magnitude_expr(g, a + 1, b - 1), g.optional(any_fraction(g))}));
  // I == b: only b itself (zero fraction), unless excluded.
  if (!hi.exclusive) out.push_back(g.sequence({magnitude_expr(g, b, b), g.optional(zero_fraction(g))}));
}

}  // namespace

Result<ExprId> integer_range_expr(Grammar& g, std::optional<int64_t> lo_opt, std::optional<int64_t> hi_opt) {
  const int64_t lo = std::max(lo_opt.value_or(-kMaxIntegerMagnitude), -kMaxIntegerMagnitude);
  const int64_t hi = std::min(hi_opt.value_or(kMaxIntegerMagnitude), kMaxIntegerMagnitude);
  if (lo > hi) return invalid_argument("integer range [{}, {}] is empty (integers here have at most {} digits)", lo, hi,
                                       kMaxIntegerDigits);
  std::vector<ExprId> alternatives;
  if (lo < 0) {
    const int64_t neg_lo = hi < 0 ? -hi : 1;
    alternatives.push_back(g.sequence({g.literal("-"), magnitude_expr(g, neg_lo, -lo)}));
  }
  if (hi >= 0) alternatives.push_back(magnitude_expr(g, std::max<int64_t>(lo, 0), hi));
  return g.choice(std::move(alternatives));
}

Result<ExprId> number_range_expr(Grammar& g, std::optional<NumberBound> lo_opt, std::optional<NumberBound> hi_opt) {
  const NumberBound lo = lo_opt.value_or(NumberBound{-kMaxIntegerMagnitude, false});
  const NumberBound hi = hi_opt.value_or(NumberBound{kMaxIntegerMagnitude, false});
  if (lo.value < -kMaxIntegerMagnitude || hi.value > kMaxIntegerMagnitude || lo.value > kMaxIntegerMagnitude ||
      hi.value < -kMaxIntegerMagnitude)
    return invalid_argument("number bounds beyond +-{} are not supported", kMaxIntegerMagnitude);
  if (lo.value > hi.value || (lo.value == hi.value && (lo.exclusive || hi.exclusive)))
    return invalid_argument("number range is empty");
  std::vector<ExprId> alternatives;
  // Non-negative values x = m.
  if (hi.value >= 0 && !(hi.value == 0 && hi.exclusive)) {
    const NumberBound m_lo = lo.value >= 0 ? lo : NumberBound{0, false};
    magnitude_pieces(g, m_lo, hi, alternatives);
  }
  // Negative values x = -m, m > 0.
  if (lo.value < 0) {
    const NumberBound m_hi{-lo.value, lo.exclusive};
    const NumberBound m_lo = hi.value < 0 ? NumberBound{-hi.value, hi.exclusive} : NumberBound{0, true};
    std::vector<ExprId> negative;
    magnitude_pieces(g, m_lo, m_hi, negative);
    if (!negative.empty()) alternatives.push_back(g.sequence({g.literal("-"), g.choice(std::move(negative))}));
  }
  if (alternatives.empty()) return invalid_argument("number range is empty");
  return g.choice(std::move(alternatives));
}

}  // namespace inferd::engine
