// Expression evaluation of Context.
#include "chat/jinja/context.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

CompareOp to_compare_op(CompareKind kind) {
  switch (kind) {
    case CompareKind::kEq: return CompareOp::kEq;
    case CompareKind::kNe: return CompareOp::kNe;
    case CompareKind::kLt: return CompareOp::kLt;
    case CompareKind::kLe: return CompareOp::kLe;
    case CompareKind::kGt: return CompareOp::kGt;
    default: return CompareOp::kGe;
  }
}

// seq[start:stop:step] of a list, tuple, str or range.
Result<Value> slice_value(Budget& budget, const Value& obj, const Value& start, const Value& stop,
                          const Value& step) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (obj.is_sequence()) {
    const auto& items = obj.items();
    INFERD_ASSIGN_OR_RETURN(SliceBounds b,
                            slice_indices(static_cast<int64_t>(items.size()), start, stop, step));
    INFERD_RETURN_IF_ERROR(budget.charge_items(b.indices.size()));
    std::vector<Value> out;
    out.reserve(b.indices.size());
    for (int64_t i : b.indices) out.push_back(items[static_cast<size_t>(i)]);
    return obj.is_list() ? Value::list(std::move(out)) : Value::tuple(std::move(out));
  }
  if (obj.is_string()) {
    const std::string& s = obj.as_string();
    if (unicode::is_ascii(s)) {
      INFERD_ASSIGN_OR_RETURN(SliceBounds b,
                              slice_indices(static_cast<int64_t>(s.size()), start, stop, step));
      std::string out;
      out.reserve(b.indices.size());
      for (int64_t i : b.indices) out.push_back(s[static_cast<size_t>(i)]);
      INFERD_RETURN_IF_ERROR(budget.charge_string(out.size()));
      return Value::string(std::move(out), obj.is_markup());
    }
    const std::u32string u = unicode::to_u32(s);
    INFERD_ASSIGN_OR_RETURN(SliceBounds b,
                            slice_indices(static_cast<int64_t>(u.size()), start, stop, step));
    std::u32string out;
    for (int64_t i : b.indices) out.push_back(u[static_cast<size_t>(i)]);
    std::string text = unicode::to_utf8(out);
    INFERD_RETURN_IF_ERROR(budget.charge_string(text.size()));
    return Value::string(std::move(text), obj.is_markup());
  }
  if (obj.is_iterator() && obj.as_iterator().flavor == IteratorData::Flavor::kRange) {
    const IteratorData& r = obj.as_iterator();
    INFERD_ASSIGN_OR_RETURN(SliceBounds b,
                            slice_indices(static_cast<int64_t>(r.items.size()), start, stop, step));
    auto it = std::make_shared<IteratorData>();
    it->flavor = IteratorData::Flavor::kRange;
    it->type_name = "range";
    it->range_start = r.range_start + b.start * r.range_step;
    it->range_stop = r.range_start + b.stop * r.range_step;
    it->range_step = r.range_step * b.step;
    for (int64_t i : b.indices) it->items.push_back(r.items[static_cast<size_t>(i)]);
    return Value::iterator(std::move(it));
  }
  if (obj.is_dict()) return invalid_argument("unhashable type: 'slice'");
  return invalid_argument("'{}' object is not subscriptable", py_type_name(obj));
}

}  // namespace

Result<Value> Context::eval(const Expr& expr, const FramePtr& frame) {
  DepthGuard guard(*this);
  INFERD_RETURN_IF_ERROR(locate(guard.check(), expr.offset));
  INFERD_RETURN_IF_ERROR(locate(budget_.charge(1), expr.offset));
  auto result = eval_inner(expr, frame);
  if (!result.ok()) return locate(result.status(), expr.offset);
  INFERD_RETURN_IF_ERROR(locate(check_container(*result), expr.offset));
  return result;
}

Result<Value> Context::eval_inner(const Expr& expr, const FramePtr& frame) {
  switch (expr.kind) {
    case ExprKind::kConst: return static_cast<const ConstExpr&>(expr).value;
    case ExprKind::kName: return eval_name(static_cast<const NameExpr&>(expr), frame);
    case ExprKind::kList:
    case ExprKind::kTuple: {
      const auto& seq = static_cast<const SeqExpr&>(expr);
      std::vector<Value> items;
      items.reserve(seq.items.size());
      for (const auto& item : seq.items) {
        INFERD_ASSIGN_OR_RETURN(Value v, eval(*item, frame));
        items.push_back(std::move(v));
      }
      INFERD_RETURN_IF_ERROR(budget_.charge_items(items.size()));
      return expr.kind == ExprKind::kList ? Value::list(std::move(items))
                                          : Value::tuple(std::move(items));
    }
    case ExprKind::kDict: {
      const auto& d = static_cast<const DictExpr&>(expr);
      auto dict = std::make_shared<DictData>();
      for (const auto& [key_expr, value_expr] : d.items) {
        INFERD_ASSIGN_OR_RETURN(Value key, eval(*key_expr, frame));
        INFERD_ASSIGN_OR_RETURN(Value value, eval(*value_expr, frame));
        INFERD_RETURN_IF_ERROR(dict->set(std::move(key), std::move(value)));
      }
      INFERD_RETURN_IF_ERROR(budget_.charge_items(dict->size()));
      return Value::dict(std::move(dict));
    }
    case ExprKind::kGetattr: {
      const auto& g = static_cast<const GetattrExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value obj, eval(*g.object, frame));
      return getattr(obj, g.attr);
    }
    case ExprKind::kGetitem: return eval_getitem(static_cast<const GetitemExpr&>(expr), frame);
    case ExprKind::kSlice: return invalid_argument("slice outside of a subscript");
    case ExprKind::kCall: {
      const auto& c = static_cast<const CallExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value callee, eval(*c.callee, frame));
      CallArgs args;
      INFERD_RETURN_IF_ERROR(eval_args(c.args, frame, args));
      return call(callee, args);
    }
    case ExprKind::kFilter:
      return eval_filter(static_cast<const FilterExpr&>(expr), frame, nullptr);
    case ExprKind::kTest: return eval_test(static_cast<const TestExpr&>(expr), frame);
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value v, eval(*u.operand, frame));
      return u.negate ? py_negate(v) : py_positive(v);
    }
    case ExprKind::kNot: {
      INFERD_ASSIGN_OR_RETURN(Value v, eval(*static_cast<const NotExpr&>(expr).operand, frame));
      return Value::boolean(!truthy(v));
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value left, eval(*b.left, frame));
      INFERD_ASSIGN_OR_RETURN(Value right, eval(*b.right, frame));
      return py_binary(budget_, b.op, left, right);
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      const auto& l = static_cast<const LogicalExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value left, eval(*l.left, frame));
      const bool t = truthy(left);
      if (expr.kind == ExprKind::kAnd ? !t : t) return left;
      return eval(*l.right, frame);
    }
    case ExprKind::kConcat: {
      std::string out;
      for (const auto& part : static_cast<const ConcatExpr&>(expr).parts) {
        INFERD_ASSIGN_OR_RETURN(Value v, eval(*part, frame));
        INFERD_ASSIGN_OR_RETURN(std::string text, to_str(v));
        out += text;
        INFERD_RETURN_IF_ERROR(budget_.check_string(out.size()));
      }
      INFERD_RETURN_IF_ERROR(budget_.charge_string(out.size()));
      return Value::string(std::move(out));
    }
    case ExprKind::kCompare: return eval_compare(static_cast<const CompareExpr&>(expr), frame);
    case ExprKind::kCondExpr: {
      const auto& c = static_cast<const CondExpr&>(expr);
      INFERD_ASSIGN_OR_RETURN(Value test, eval(*c.test, frame));
      if (truthy(test)) return eval(*c.then, frame);
      if (c.otherwise != nullptr) return eval(*c.otherwise, frame);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.",
          map_.locate(expr.offset).line));
    }
    case ExprKind::kNsRef: return invalid_argument("namespace reference outside of an assignment");
  }
  return internal_error("unknown expression kind");
}

Result<Value> Context::eval_name(const NameExpr& expr, const FramePtr& frame) {
  if (const Value* v = frame->lookup(expr.name)) return *v;
  Value global;
  if (lookup_global(expr.name, global)) return global;
  return Value::undefined(fmt::format("{} is undefined", string_repr(expr.name)));
}

Result<Value> Context::eval_getitem(const GetitemExpr& expr, const FramePtr& frame) {
  INFERD_ASSIGN_OR_RETURN(Value obj, eval(*expr.object, frame));
  if (expr.key->kind == ExprKind::kSlice) {
    const auto& s = static_cast<const SliceExpr&>(*expr.key);
    Value start = Value::none(), stop = Value::none(), step = Value::none();
    if (s.start) {
      INFERD_ASSIGN_OR_RETURN(start, eval(*s.start, frame));
    }
    if (s.stop) {
      INFERD_ASSIGN_OR_RETURN(stop, eval(*s.stop, frame));
    }
    if (s.step) {
      INFERD_ASSIGN_OR_RETURN(step, eval(*s.step, frame));
    }
    return slice_value(budget_, obj, start, stop, step);
  }
  INFERD_ASSIGN_OR_RETURN(Value key, eval(*expr.key, frame));
  return getitem(obj, key);
}

Result<Value> Context::eval_compare(const CompareExpr& expr, const FramePtr& frame) {
  INFERD_ASSIGN_OR_RETURN(Value left, eval(*expr.first, frame));
  for (const auto& [kind, rhs_expr] : expr.ops) {
    INFERD_ASSIGN_OR_RETURN(Value right, eval(*rhs_expr, frame));
    bool result;
    if (kind == CompareKind::kIn || kind == CompareKind::kNotIn) {
      INFERD_ASSIGN_OR_RETURN(result, py_contains(right, left));
      if (kind == CompareKind::kNotIn) result = !result;
    } else {
      INFERD_ASSIGN_OR_RETURN(result, py_compare(to_compare_op(kind), left, right));
    }
    if (!result) return Value::boolean(false);
    left = std::move(right);
  }
  return Value::boolean(true);
}

Status Context::eval_args(const CallArgsExpr& args, const FramePtr& frame, CallArgs& out) {
  for (const auto& a : args.args) {
    INFERD_ASSIGN_OR_RETURN(Value v, eval(*a, frame));
    out.positional.push_back(std::move(v));
  }
  for (const auto& [name, e] : args.kwargs) {
    INFERD_ASSIGN_OR_RETURN(Value v, eval(*e, frame));
    out.keywords.emplace_back(name, std::move(v));
  }
  if (args.dyn_args != nullptr) {
    INFERD_ASSIGN_OR_RETURN(Value v, eval(*args.dyn_args, frame));
    INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(v));
    for (auto& item : items) out.positional.push_back(std::move(item));
  }
  if (args.dyn_kwargs != nullptr) {
    INFERD_ASSIGN_OR_RETURN(Value v, eval(*args.dyn_kwargs, frame));
    if (!v.is_dict()) {
      return invalid_argument("argument after ** must be a mapping, not {}", py_type_name(v));
    }
    for (const auto& [key, value] : v.as_dict().entries()) {
      if (!key.is_string()) return invalid_argument("keywords must be strings");
      out.keywords.emplace_back(key.as_string(), value);
    }
  }
  return Status::ok_status();
}

Result<Value> Context::eval_filter(const FilterExpr& expr, const FramePtr& frame,
                                   const Value* input) {
  Value in;
  if (expr.input == nullptr) {
    if (input == nullptr) return internal_error("filter without input");
    in = *input;
  } else if (input != nullptr && expr.input->kind == ExprKind::kFilter) {
    INFERD_ASSIGN_OR_RETURN(in,
                            eval_filter(static_cast<const FilterExpr&>(*expr.input), frame, input));
  } else {
    INFERD_ASSIGN_OR_RETURN(in, eval(*expr.input, frame));
  }
  CallArgs args;
  INFERD_RETURN_IF_ERROR(eval_args(expr.args, frame, args));
  return call_filter(expr.name, in, args);
}

Result<Value> Context::apply_filter_chain(const Expr& filter, const FramePtr& frame, Value input) {
  if (filter.kind != ExprKind::kFilter) return internal_error("expected a filter");
  auto result = eval_filter(static_cast<const FilterExpr&>(filter), frame, &input);
  if (!result.ok()) return locate(result.status(), filter.offset);
  return result;
}

Result<Value> Context::eval_test(const TestExpr& expr, const FramePtr& frame) {
  INFERD_ASSIGN_OR_RETURN(Value in, eval(*expr.input, frame));
  CallArgs args;
  INFERD_RETURN_IF_ERROR(eval_args(expr.args, frame, args));
  INFERD_ASSIGN_OR_RETURN(bool result, call_test(expr.name, in, args));
  return Value::boolean(result);
}

}  // namespace inferd::chat::jinja
