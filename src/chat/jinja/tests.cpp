#include "chat/jinja/tests.h"

#include "chat/jinja/args.h"
#include "chat/jinja/context.h"
#include "chat/jinja/filters.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

Result<Value> one_arg(std::string_view name, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args(name, args, {required("other")}));
  return a[0];
}

Result<bool> test_defined(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_defined", args));
  return !v.is_undefined();
}
Result<bool> test_undefined(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_undefined", args));
  return v.is_undefined();
}
Result<bool> test_none(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_none", args));
  return v.is_none();
}
Result<bool> test_boolean(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_boolean", args));
  return v.is_bool();
}
Result<bool> test_true(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_true", args));
  return v.is_bool() && v.as_bool();
}
Result<bool> test_false(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_false", args));
  return v.is_bool() && !v.as_bool();
}
Result<bool> test_integer(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_integer", args));
  return v.is_int();
}
Result<bool> test_float(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_float", args));
  return v.is_float();
}
Result<bool> test_number(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_number", args));
  return v.is_number();
}
Result<bool> test_string(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_string", args));
  return v.is_string();
}
Result<bool> test_mapping(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_mapping", args));
  return v.is_dict();
}
Result<bool> test_iterable(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_iterable", args));
  switch (v.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kString:
    case ValueKind::kList:
    case ValueKind::kTuple:
    case ValueKind::kDict:
    case ValueKind::kIterator: return true;
    case ValueKind::kObject: return v.as_object().type_name() == "LoopContext";
    default: return false;
  }
}
Result<bool> test_sequence(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_sequence", args));
  switch (v.kind()) {
    case ValueKind::kUndefined:
    case ValueKind::kString:
    case ValueKind::kList:
    case ValueKind::kTuple:
    case ValueKind::kDict: return true;
    case ValueKind::kIterator: return v.as_iterator().flavor == IteratorData::Flavor::kRange;
    default: return false;
  }
}
Result<bool> test_callable(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("callable", args));
  // jinja2's Undefined defines __call__, so callable(undefined) is true.
  return v.is_undefined() || (v.is_object() && v.as_object().callable());
}
Result<bool> test_escaped(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_escaped", args));
  return v.is_markup();
}
Result<bool> test_lower(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_lower", args));
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(v));
  return unicode::str_islower(s);
}
Result<bool> test_upper(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_upper", args));
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(v));
  return unicode::str_isupper(s);
}

Result<bool> parity(Context& ctx, const Value& v, int64_t remainder) {
  INFERD_ASSIGN_OR_RETURN(Value r, py_binary(ctx.budget(), BinaryOp::kMod, v, Value::integer(2)));
  return py_equal(r, Value::integer(remainder));
}
Result<bool> test_odd(Context& ctx, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_odd", args));
  return parity(ctx, v, 1);
}
Result<bool> test_even(Context& ctx, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_even", args));
  return parity(ctx, v, 0);
}
Result<bool> test_divisibleby(Context& ctx, const Value& v, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("test_divisibleby", args, {required("num")}));
  INFERD_ASSIGN_OR_RETURN(Value r, py_binary(ctx.budget(), BinaryOp::kMod, v, a[0]));
  return py_equal(r, Value::integer(0));
}
Result<bool> test_sameas(Context&, const Value& v, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(Value other, one_arg("test_sameas", args));
  return py_same(v, other);
}
Result<bool> test_in(Context&, const Value& v, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(Value seq, one_arg("test_in", args));
  return py_contains(seq, v);
}
Result<bool> test_filter(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_filter", args));
  return v.is_string() && is_known_filter(v.as_string());
}
Result<bool> test_test(Context&, const Value& v, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("test_test", args));
  return v.is_string() && is_known_test(v.as_string());
}

template <CompareOp Op>
Result<bool> test_compare(Context&, const Value& v, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(Value other, one_arg("compare", args));
  return py_compare(Op, v, other);
}

struct TestEntry {
  std::string_view name;
  TestFn fn;
};

constexpr TestEntry kTests[] = {
    {"odd", test_odd},
    {"even", test_even},
    {"divisibleby", test_divisibleby},
    {"defined", test_defined},
    {"undefined", test_undefined},
    {"filter", test_filter},
    {"test", test_test},
    {"none", test_none},
    {"boolean", test_boolean},
    {"false", test_false},
    {"true", test_true},
    {"integer", test_integer},
    {"float", test_float},
    {"lower", test_lower},
    {"upper", test_upper},
    {"string", test_string},
    {"mapping", test_mapping},
    {"number", test_number},
    {"sequence", test_sequence},
    {"iterable", test_iterable},
    {"callable", test_callable},
    {"sameas", test_sameas},
    {"escaped", test_escaped},
    {"in", test_in},
    {"==", test_compare<CompareOp::kEq>},
    {"eq", test_compare<CompareOp::kEq>},
    {"equalto", test_compare<CompareOp::kEq>},
    {"!=", test_compare<CompareOp::kNe>},
    {"ne", test_compare<CompareOp::kNe>},
    {">", test_compare<CompareOp::kGt>},
    {"gt", test_compare<CompareOp::kGt>},
    {"greaterthan", test_compare<CompareOp::kGt>},
    {">=", test_compare<CompareOp::kGe>},
    {"ge", test_compare<CompareOp::kGe>},
    {"<", test_compare<CompareOp::kLt>},
    {"lt", test_compare<CompareOp::kLt>},
    {"lessthan", test_compare<CompareOp::kLt>},
    {"<=", test_compare<CompareOp::kLe>},
    {"le", test_compare<CompareOp::kLe>},
};

}  // namespace

const TestFn* find_test(std::string_view name) {
  for (const TestEntry& t : kTests) {
    if (t.name == name) return &t.fn;
  }
  return nullptr;
}

bool is_known_test(std::string_view name) {
  return find_test(name) != nullptr;
}

}  // namespace inferd::chat::jinja
