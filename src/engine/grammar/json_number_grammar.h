// Grammar expressions for JSON numbers, including ranges, in decimal notation without leading
// zeros. Policy shared by the schema compiler: an integer part has at most kMaxIntegerDigits
// digits, a fraction at most kMaxFractionDigits, an exponent at most two digits; this keeps every
// value finite in a double and keeps models from emitting digits forever.
#pragma once

#include <cstdint>
#include <optional>

#include "base/status.h"
#include "engine/grammar/grammar.h"

namespace inferd::engine {

inline constexpr int kMaxIntegerDigits = 16;
inline constexpr int kMaxFractionDigits = 16;
// The largest magnitude an integer part may have: 10^16 - 1.
inline constexpr int64_t kMaxIntegerMagnitude = 9999999999999999;

// A bound of a range; `exclusive` excludes the value itself.
struct NumberBound {
  int64_t value = 0;
  bool exclusive = false;
};

// Integers n with lo <= n <= hi (absent: no bound beyond the digit policy). Error when the range
// is empty.
Result<ExprId> integer_range_expr(Grammar& g, std::optional<int64_t> lo, std::optional<int64_t> hi);

// Decimal numbers x (integer part, optional fraction, no exponent) within the bounds. Error when
// the range is empty.
Result<ExprId> number_range_expr(Grammar& g, std::optional<NumberBound> lo, std::optional<NumberBound> hi);

}  // namespace inferd::engine
