#include "chat/jinja/py_ops.h"

#include <cmath>
#include <limits>

#include "chat/jinja/py_format.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

const char* op_symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd: return "+";
    case BinaryOp::kSub: return "-";
    case BinaryOp::kMul: return "*";
    case BinaryOp::kDiv: return "/";
    case BinaryOp::kFloorDiv: return "//";
    case BinaryOp::kMod: return "%";
    case BinaryOp::kPow: return "** or pow()";
  }
  return "?";
}

Status unsupported_operands(BinaryOp op, const Value& a, const Value& b) {
  return invalid_argument("unsupported operand type(s) for {}: '{}' and '{}'", op_symbol(op),
                          py_type_name(a), py_type_name(b));
}

Status integer_overflow() {
  return out_of_range("integer result out of range (templates use 64-bit integers)");
}

// Exact comparison of an int with a float, as Python does.
bool int_equals_float(int64_t i, double f) {
  if (std::isnan(f) || std::isinf(f)) return false;
  if (std::floor(f) != f) return false;
  if (f < -9.2233720368547758e18 || f >= 9.2233720368547758e18) return false;
  return static_cast<int64_t>(f) == i;
}

bool numbers_equal(const Value& a, const Value& b) {
  if (a.is_float() || b.is_float()) {
    if (a.is_float() && b.is_float()) return a.as_float() == b.as_float();
    if (a.is_float()) return int_equals_float(b.as_int(), a.as_float());
    return int_equals_float(a.as_int(), b.as_float());
  }
  return a.as_int() == b.as_int();
}

Status type_error_compare(std::string_view op, const Value& a, const Value& b) {
  return invalid_argument("'{}' not supported between instances of '{}' and '{}'", op,
                          py_type_name(a), py_type_name(b));
}

Result<Value> make_string(Budget& budget, std::string s, bool markup) {
  INFERD_RETURN_IF_ERROR(budget.charge_string(s.size()));
  return Value::string(std::move(s), markup);
}

Result<Value> add(Budget& budget, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value::number(a.as_float() + b.as_float());
    int64_t r;
    if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) return integer_overflow();
    return Value::integer(r);
  }
  if (a.is_string() && b.is_string()) {
    const size_t size = a.as_string().size() + b.as_string().size();
    INFERD_RETURN_IF_ERROR(budget.charge_string(size));
    if (a.is_markup() || b.is_markup()) {
      std::string out = a.is_markup() ? a.as_string() : html_escape(a.as_string());
      out += b.is_markup() ? b.as_string() : html_escape(b.as_string());
      return make_string(budget, std::move(out), true);
    }
    std::string out;
    out.reserve(size);
    out += a.as_string();
    out += b.as_string();
    return Value::string(std::move(out));
  }
  if (a.is_markup() || b.is_markup()) return unsupported_operands(BinaryOp::kAdd, a, b);
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const size_t n = a.items().size() + b.items().size();
    INFERD_RETURN_IF_ERROR(budget.charge_items(n));
    std::vector<Value> items;
    items.reserve(n);
    items.insert(items.end(), a.items().begin(), a.items().end());
    items.insert(items.end(), b.items().begin(), b.items().end());
    return a.is_list() ? Value::list(std::move(items)) : Value::tuple(std::move(items));
  }
  if (a.is_string()) {
    return invalid_argument("can only concatenate str (not \"{}\") to str", py_type_name(b));
  }
  if (a.is_list() || a.is_tuple()) {
    return invalid_argument("can only concatenate {} (not \"{}\") to {}", py_type_name(a),
                            py_type_name(b), py_type_name(a));
  }
  return unsupported_operands(BinaryOp::kAdd, a, b);
}

Result<Value> repeat(Budget& budget, const Value& seq, int64_t n) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const size_t unit = seq.as_string().size();
    if (unit != 0 && static_cast<uint64_t>(n) > budget.limits().max_output_bytes / unit + 1) {
      return budget.charge_string(budget.limits().max_output_bytes + 1);
    }
    const size_t total = unit * static_cast<size_t>(n);
    INFERD_RETURN_IF_ERROR(budget.charge_string(total));
    std::string out;
    out.reserve(total);
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value::string(std::move(out), seq.is_markup());
  }
  const size_t unit = seq.items().size();
  if (unit != 0 && static_cast<uint64_t>(n) > budget.limits().max_container_items / unit + 1) {
    return budget.charge_items(budget.limits().max_container_items + 1);
  }
  const size_t total = unit * static_cast<size_t>(n);
  INFERD_RETURN_IF_ERROR(budget.charge_items(total));
  std::vector<Value> items;
  items.reserve(total);
  for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq.items().begin(), seq.items().end());
  return seq.is_list() ? Value::list(std::move(items)) : Value::tuple(std::move(items));
}

Result<Value> mul(Budget& budget, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return Value::number(a.as_float() * b.as_float());
    int64_t r;
    if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) return integer_overflow();
    return Value::integer(r);
  }
  const bool a_seq = a.is_string() || a.is_list() || a.is_tuple();
  const bool b_seq = b.is_string() || b.is_list() || b.is_tuple();
  if (a_seq && b.is_integral()) return repeat(budget, a, b.as_int());
  if (b_seq && a.is_integral()) return repeat(budget, b, a.as_int());
  if (a_seq && !b_seq) {
    return invalid_argument("can't multiply sequence by non-int of type '{}'", py_type_name(b));
  }
  if (b_seq && !a_seq) {
    return invalid_argument("can't multiply sequence by non-int of type '{}'", py_type_name(a));
  }
  return unsupported_operands(BinaryOp::kMul, a, b);
}

// Python's float divmod.
void float_divmod(double vx, double wx, double& floordiv, double& mod) {
  mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) {
      mod += wx;
      div -= 1.0;
    }
  } else {
    mod = std::copysign(0.0, wx);
  }
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
}

Result<Value> int_pow(int64_t base, int64_t exp) {
  int64_t result = 1;
  int64_t b = base;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, b, &result)) return integer_overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(b, b, &b)) return integer_overflow();
  }
  return Value::integer(result);
}

Result<Value> arith(BinaryOp op, const Value& a, const Value& b) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (!a.is_number() || !b.is_number()) return unsupported_operands(op, a, b);
  const bool use_float = a.is_float() || b.is_float();
  switch (op) {
    case BinaryOp::kSub: {
      if (use_float) return Value::number(a.as_float() - b.as_float());
      int64_t r;
      if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) return integer_overflow();
      return Value::integer(r);
    }
    case BinaryOp::kDiv: {
      if (b.as_float() == 0.0) {
        return invalid_argument("{}", use_float ? "float division by zero" : "division by zero");
      }
      return Value::number(a.as_float() / b.as_float());
    }
    case BinaryOp::kFloorDiv:
    case BinaryOp::kMod: {
      if (use_float) {
        if (b.as_float() == 0.0) {
          return invalid_argument(
              "{}", op == BinaryOp::kMod ? "float modulo" : "float floor division by zero");
        }
        double fd, m;
        float_divmod(a.as_float(), b.as_float(), fd, m);
        return Value::number(op == BinaryOp::kMod ? m : fd);
      }
      const int64_t x = a.as_int();
      const int64_t y = b.as_int();
      if (y == 0) {
        return invalid_argument("{}", op == BinaryOp::kMod ? "integer modulo by zero"
                                                           : "integer division or modulo by zero");
      }
      if (x == std::numeric_limits<int64_t>::min() && y == -1) {
        if (op == BinaryOp::kMod) return Value::integer(0);
        return integer_overflow();
      }
      int64_t q = x / y;
      int64_t r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        r += y;
        q -= 1;
      }
      return Value::integer(op == BinaryOp::kMod ? r : q);
    }
    case BinaryOp::kPow: {
      if (!use_float && b.as_int() >= 0) return int_pow(a.as_int(), b.as_int());
      const double x = a.as_float();
      const double y = b.as_float();
      if (x == 0.0 && y < 0) return invalid_argument("0.0 cannot be raised to a negative power");
      if (x < 0 && std::floor(y) != y) {
        return unsupported("complex results of ** are not supported");
      }
      const double r = std::pow(x, y);
      if (std::isinf(r) && !std::isinf(x) && !std::isinf(y)) {
        return out_of_range("(34, 'Numerical result out of range')");
      }
      return Value::number(r);
    }
    default: return unsupported_operands(op, a, b);
  }
}

}  // namespace

Status undefined_error(const Value& undefined) {
  return invalid_argument("{}", undefined.undefined_message());
}

bool truthy(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return false;
    case ValueKind::kBool: return v.as_bool();
    case ValueKind::kInt: return v.as_int() != 0;
    case ValueKind::kFloat: return v.as_float() != 0.0;
    case ValueKind::kString: return !v.as_string().empty();
    case ValueKind::kList:
    case ValueKind::kTuple: return !v.items().empty();
    case ValueKind::kDict: return v.as_dict().size() != 0;
    case ValueKind::kIterator: {
      const IteratorData& it = v.as_iterator();
      return it.single_pass() || !it.items.empty();
    }
    case ValueKind::kObject: {
      const int64_t len = v.as_object().length();
      return len != 0;
    }
  }
  return false;
}

bool py_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kNone: return true;
    case ValueKind::kString: return a.as_string() == b.as_string();
    case ValueKind::kList:
    case ValueKind::kTuple: {
      if (a.identity() == b.identity()) return true;
      const auto& x = a.items();
      const auto& y = b.items();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!py_equal(x[i], y[i])) return false;
      }
      return true;
    }
    case ValueKind::kDict: {
      if (a.identity() == b.identity()) return true;
      const DictData& x = a.as_dict();
      const DictData& y = b.as_dict();
      if (x.size() != y.size()) return false;
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.find(key);
        if (other == nullptr || !py_equal(value, *other)) return false;
      }
      return true;
    }
    default: return a.identity() == b.identity();
  }
}

Result<bool> py_less(const Value& a, const Value& b, std::string_view op_symbol_text) {
  if (a.is_undefined()) return undefined_error(a);
  if (b.is_undefined()) return undefined_error(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_float() < b.as_float();
    return a.as_int() < b.as_int();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const auto& x = a.items();
    const auto& y = b.items();
    const size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!py_equal(x[i], y[i])) return py_less(x[i], y[i], "<");
    }
    return x.size() < y.size();
  }
  return type_error_compare(op_symbol_text, a, b);
}

Result<bool> py_compare(CompareOp op, const Value& a, const Value& b) {
  switch (op) {
    case CompareOp::kEq: return py_equal(a, b);
    case CompareOp::kNe: return !py_equal(a, b);
    case CompareOp::kLt: return py_less(a, b, "<");
    case CompareOp::kGt: {
      INFERD_ASSIGN_OR_RETURN(bool r, py_less(b, a, ">"));
      return r;
    }
    case CompareOp::kLe: {
      if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_float() <= b.as_float();
        return a.as_int() <= b.as_int();
      }
      INFERD_ASSIGN_OR_RETURN(bool lt, py_less(a, b, "<="));
      return lt || py_equal(a, b);
    }
    case CompareOp::kGe: {
      if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.as_float() >= b.as_float();
        return a.as_int() >= b.as_int();
      }
      INFERD_ASSIGN_OR_RETURN(bool gt, py_less(b, a, ">="));
      return gt || py_equal(a, b);
    }
  }
  return false;
}

bool py_same(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kUndefined: return a.identity() == b.identity();
    case ValueKind::kNone: return true;
    case ValueKind::kBool: return a.as_bool() == b.as_bool();
    case ValueKind::kInt:
      // CPython caches small ints; larger equal ints are distinct objects.
      return a.as_int() == b.as_int() && a.as_int() >= -5 && a.as_int() <= 256;
    case ValueKind::kFloat: return false;
    default: return a.identity() == b.identity();
  }
}

Result<int64_t> py_len(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return 0;
    case ValueKind::kString: return static_cast<int64_t>(unicode::count_code_points(v.as_string()));
    case ValueKind::kList:
    case ValueKind::kTuple: return static_cast<int64_t>(v.items().size());
    case ValueKind::kDict: return static_cast<int64_t>(v.as_dict().size());
    case ValueKind::kIterator: {
      const IteratorData& it = v.as_iterator();
      if (it.sized()) return static_cast<int64_t>(it.items.size());
      break;
    }
    case ValueKind::kObject: {
      const int64_t len = v.as_object().length();
      if (len >= 0) return len;
      break;
    }
    default: break;
  }
  return invalid_argument("object of type '{}' has no len()", py_type_name(v));
}

Result<std::vector<Value>> py_iterate(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return std::vector<Value>();
    case ValueKind::kString: {
      std::vector<Value> out;
      const std::string& s = v.as_string();
      size_t pos = 0;
      while (pos < s.size()) {
        const size_t start = pos;
        unicode::decode_next(s, pos);
        out.push_back(Value::string(s.substr(start, pos - start), v.is_markup()));
      }
      return out;
    }
    case ValueKind::kList:
    case ValueKind::kTuple: return v.items();
    case ValueKind::kDict: {
      std::vector<Value> out;
      out.reserve(v.as_dict().size());
      for (const auto& entry : v.as_dict().entries()) out.push_back(entry.first);
      return out;
    }
    case ValueKind::kIterator: {
      IteratorData& it = v.as_iterator();
      if (!it.single_pass()) return it.items;
      std::vector<Value> out(it.items.begin() + static_cast<std::ptrdiff_t>(it.pos),
                             it.items.end());
      it.pos = it.items.size();
      return out;
    }
    default: break;
  }
  return invalid_argument("'{}' object is not iterable", py_type_name(v));
}

Result<bool> py_contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case ValueKind::kUndefined: return false;
    case ValueKind::kString:
      if (!item.is_string()) {
        return invalid_argument("'in <string>' requires string as left operand, not {}",
                                py_type_name(item));
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case ValueKind::kList:
    case ValueKind::kTuple:
      for (const Value& v : container.items()) {
        if (py_equal(v, item)) return true;
      }
      return false;
    case ValueKind::kDict:
      if (item.is_list() || item.is_dict()) {
        return invalid_argument("unhashable type: '{}'", py_type_name(item));
      }
      return container.as_dict().find(item) != nullptr;
    case ValueKind::kIterator: {
      IteratorData& it = container.as_iterator();
      if (!it.single_pass()) {
        for (const Value& v : it.items) {
          if (py_equal(v, item)) return true;
        }
        return false;
      }
      while (it.pos < it.items.size()) {
        if (py_equal(it.items[it.pos++], item)) return true;
      }
      return false;
    }
    default: break;
  }
  return invalid_argument("argument of type '{}' is not iterable", py_type_name(container));
}

Result<Value> py_binary(Budget& budget, BinaryOp op, const Value& a, const Value& b) {
  switch (op) {
    case BinaryOp::kAdd: return add(budget, a, b);
    case BinaryOp::kMul: return mul(budget, a, b);
    case BinaryOp::kMod:
      if (a.is_string()) return percent_format(budget, a, b);
      return arith(op, a, b);
    default: return arith(op, a, b);
  }
}

Result<Value> py_negate(const Value& v) {
  if (v.is_undefined()) return undefined_error(v);
  if (v.is_float()) return Value::number(-v.as_float());
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) return integer_overflow();
    return Value::integer(-v.as_int());
  }
  return invalid_argument("bad operand type for unary -: '{}'", py_type_name(v));
}

Result<Value> py_positive(const Value& v) {
  if (v.is_undefined()) return undefined_error(v);
  if (v.is_float()) return v;
  if (v.is_integral()) return Value::integer(v.as_int());
  return invalid_argument("bad operand type for unary +: '{}'", py_type_name(v));
}

Result<Value> py_abs(const Value& v) {
  if (v.is_float()) return Value::number(std::fabs(v.as_float()));
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) return integer_overflow();
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.is_undefined()) {
    return invalid_argument("bad operand type for abs(): 'Undefined'");
  }
  return invalid_argument("bad operand type for abs(): '{}'", py_type_name(v));
}

Result<SliceBounds> slice_indices(int64_t length, const Value& start, const Value& stop,
                                  const Value& step) {
  auto index_of = [](const Value& v, bool& present, int64_t& out) -> Status {
    if (v.is_none() || v.is_undefined()) {
      present = false;
      return Status::ok_status();
    }
    if (!v.is_integral()) {
      return invalid_argument("slice indices must be integers or None or have an __index__ method");
    }
    present = true;
    out = v.as_int();
    return Status::ok_status();
  };
  bool has_start, has_stop, has_step;
  int64_t s0 = 0, s1 = 0, st = 1;
  INFERD_RETURN_IF_ERROR(index_of(start, has_start, s0));
  INFERD_RETURN_IF_ERROR(index_of(stop, has_stop, s1));
  INFERD_RETURN_IF_ERROR(index_of(step, has_step, st));
  if (!has_step) st = 1;
  if (st == 0) return invalid_argument("slice step cannot be zero");
  auto adjust = [&](bool present, int64_t v, int64_t dflt) {
    if (!present) return dflt;
    if (v < 0) {
      v += length;
      if (v < 0) v = st < 0 ? -1 : 0;
    } else if (v >= length) {
      v = st < 0 ? length - 1 : length;
    }
    return v;
  };
  const int64_t b = adjust(has_start, s0, st < 0 ? length - 1 : 0);
  const int64_t e = adjust(has_stop, s1, st < 0 ? -1 : length);
  SliceBounds out;
  out.start = b;
  out.stop = e;
  out.step = st;
  for (int64_t i = b; st > 0 ? i < e : i > e;) {
    out.indices.push_back(i);
    if (__builtin_add_overflow(i, st, &i)) break;
  }
  return out;
}

}  // namespace inferd::chat::jinja
