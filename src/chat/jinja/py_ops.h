// Python semantics of the operators a template applies to values: truthiness, ==, <, `in`,
// len(), iteration and arithmetic (+ - * / // % **, unary - +), with Python's error messages.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

enum class BinaryOp : uint8_t { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };
enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// The error raised by any operation on an undefined value, with jinja2's message.
Status undefined_error(const Value& undefined);

bool truthy(const Value& v);
bool py_equal(const Value& a, const Value& b);
// a < b; TypeError for values Python cannot order.
Result<bool> py_less(const Value& a, const Value& b, std::string_view op_symbol = "<");
Result<bool> py_compare(CompareOp op, const Value& a, const Value& b);
// Python's `is` (identity): singletons and small ints compare by value, objects by reference.
bool py_same(const Value& a, const Value& b);

// len(v).
Result<int64_t> py_len(const Value& v);
// The items `for x in v` visits. Consumes single-pass iterators (generators).
Result<std::vector<Value>> py_iterate(const Value& v);
// `item in container`.
Result<bool> py_contains(const Value& container, const Value& item);

Result<Value> py_binary(Budget& budget, BinaryOp op, const Value& a, const Value& b);
Result<Value> py_negate(const Value& v);
Result<Value> py_positive(const Value& v);
// Python's abs().
Result<Value> py_abs(const Value& v);

// Python's slice.indices(length) for seq[start:stop:step], and the indices it selects.
struct SliceBounds {
  int64_t start = 0, stop = 0, step = 1;
  std::vector<int64_t> indices;
};
Result<SliceBounds> slice_indices(int64_t length, const Value& start, const Value& stop,
                                  const Value& step);

}  // namespace inferd::chat::jinja
