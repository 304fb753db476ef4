// Statement execution of Context: output, if, for, set, macro, call, filter, with blocks.
#include <algorithm>

#include "chat/jinja/context.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {

const Value* Frame::lookup(std::string_view name) const {
  for (const Frame* f = this; f != nullptr; f = f->parent_.get()) {
    for (const auto& [key, value] : f->vars_) {
      if (key == name) return &value;
    }
  }
  return nullptr;
}

void Frame::set(std::string_view name, Value value) {
  for (auto& [key, existing] : vars_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(value));
}

Context::Context(const TemplateAst& ast, const Limits& limits, std::time_t now)
    : ast_(ast), map_(ast.source), budget_(limits), now_(now) {}

Context::~Context() {
  for (const auto& obj : tracked_) obj->release();
}

Result<std::string> Context::render(std::vector<std::pair<std::string, Value>> variables) {
  auto root = std::make_shared<Frame>(nullptr);
  for (auto& [name, value] : variables) root->set(name, std::move(value));
  std::string out;
  auto flow = exec_body(ast_.body, root, out);
  root->clear();
  if (!flow.ok()) return flow.status();
  return out;
}

Status Context::template_error(std::string message) {
  error_located_ = true;
  return invalid_argument("{}", message);
}

Status Context::locate(Status status, uint32_t offset) {
  if (status.ok() || error_located_) return status;
  error_located_ = true;
  return status.with_context("template error at " + map_.describe(offset));
}

Status Context::append(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits().max_output_bytes) {
    return resource_exhausted("template output exceeds the limit of {} bytes",
                              limits().max_output_bytes);
  }
  out.append(text);
  return Status::ok_status();
}

Status Context::check_container(const Value& v) {
  if (v.depth() > limits().max_value_depth) {
    return resource_exhausted("value nested deeper than {} levels", limits().max_value_depth);
  }
  return Status::ok_status();
}

Result<Context::Flow> Context::exec_body(const Body& body, const FramePtr& frame,
                                         std::string& out) {
  for (const auto& stmt : body) {
    INFERD_ASSIGN_OR_RETURN(Flow flow, exec(*stmt, frame, out));
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Result<Context::Flow> Context::exec(const Stmt& stmt, const FramePtr& frame, std::string& out) {
  DepthGuard guard(*this);
  INFERD_RETURN_IF_ERROR(locate(guard.check(), stmt.offset));
  INFERD_RETURN_IF_ERROR(locate(budget_.charge(1), stmt.offset));
  switch (stmt.kind) {
    case StmtKind::kOutput: return exec_output(static_cast<const OutputStmt&>(stmt), frame, out);
    case StmtKind::kIf: return exec_if(static_cast<const IfStmt&>(stmt), frame, out);
    case StmtKind::kFor: {
      const auto& s = static_cast<const ForStmt&>(stmt);
      INFERD_ASSIGN_OR_RETURN(Value iterable, eval(*s.iter, frame));
      INFERD_RETURN_IF_ERROR(locate(exec_for(s, frame, iterable, 0, out), stmt.offset));
      return Flow::kNormal;
    }
    case StmtKind::kSet: {
      const auto& s = static_cast<const SetStmt&>(stmt);
      INFERD_ASSIGN_OR_RETURN(Value value, eval(*s.value, frame));
      INFERD_RETURN_IF_ERROR(locate(assign(*s.target, value, frame), stmt.offset));
      return Flow::kNormal;
    }
    case StmtKind::kSetBlock: {
      const auto& s = static_cast<const SetBlockStmt&>(stmt);
      auto inner = std::make_shared<Frame>(frame);
      std::string captured;
      INFERD_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, inner, captured));
      if (flow != Flow::kNormal) return flow;
      Value value = Value::string(std::move(captured));
      if (s.filter != nullptr) {
        INFERD_ASSIGN_OR_RETURN(value, apply_filter_chain(*s.filter, inner, std::move(value)));
      }
      INFERD_RETURN_IF_ERROR(locate(assign(*s.target, value, frame), stmt.offset));
      return Flow::kNormal;
    }
    case StmtKind::kMacro: {
      const auto& s = static_cast<const MacroStmt&>(stmt);
      auto macro = std::make_shared<MacroObject>(s.name, &s.signature, &s.body, frame);
      track(macro);
      frame->set(s.name, Value::object(macro));
      return Flow::kNormal;
    }
    case StmtKind::kCallBlock:
      INFERD_RETURN_IF_ERROR(exec_call_block(static_cast<const CallBlockStmt&>(stmt), frame, out));
      return Flow::kNormal;
    case StmtKind::kFilterBlock: {
      const auto& s = static_cast<const FilterBlockStmt&>(stmt);
      auto inner = std::make_shared<Frame>(frame);
      std::string captured;
      INFERD_ASSIGN_OR_RETURN(Flow flow, exec_body(s.body, inner, captured));
      if (flow != Flow::kNormal) return flow;
      INFERD_ASSIGN_OR_RETURN(
          Value value, apply_filter_chain(*s.filter, inner, Value::string(std::move(captured))));
      INFERD_ASSIGN_OR_RETURN(std::string text, to_str(value));
      INFERD_RETURN_IF_ERROR(locate(append(out, text), stmt.offset));
      return Flow::kNormal;
    }
    case StmtKind::kWith: {
      const auto& s = static_cast<const WithStmt&>(stmt);
      std::vector<Value> values;
      for (const auto& [target, expr] : s.assignments) {
        INFERD_ASSIGN_OR_RETURN(Value v, eval(*expr, frame));
        values.push_back(std::move(v));
      }
      auto inner = std::make_shared<Frame>(frame);
      for (size_t i = 0; i < values.size(); ++i) {
        INFERD_RETURN_IF_ERROR(
            locate(assign(*s.assignments[i].first, values[i], inner), stmt.offset));
      }
      return exec_body(s.body, inner, out);
    }
    case StmtKind::kScope: {
      auto inner = std::make_shared<Frame>(frame);
      INFERD_ASSIGN_OR_RETURN(Flow flow,
                              exec_body(static_cast<const ScopeStmt&>(stmt).body, inner, out));
      (void)flow;
      return Flow::kNormal;
    }
    case StmtKind::kBreak: return Flow::kBreak;
    case StmtKind::kContinue: return Flow::kContinue;
  }
  return Flow::kNormal;
}

Result<Context::Flow> Context::exec_output(const OutputStmt& stmt, const FramePtr& frame,
                                           std::string& out) {
  for (const auto& piece : stmt.pieces) {
    if (piece.expr == nullptr) {
      INFERD_RETURN_IF_ERROR(locate(append(out, piece.text), stmt.offset));
      continue;
    }
    INFERD_ASSIGN_OR_RETURN(Value v, eval(*piece.expr, frame));
    if (v.is_string()) {
      INFERD_RETURN_IF_ERROR(locate(append(out, v.as_string()), piece.expr->offset));
      continue;
    }
    auto text = to_str(v);
    if (!text.ok()) return locate(text.status(), piece.expr->offset);
    INFERD_RETURN_IF_ERROR(locate(append(out, *text), piece.expr->offset));
  }
  return Flow::kNormal;
}

Result<Context::Flow> Context::exec_if(const IfStmt& stmt, const FramePtr& frame,
                                       std::string& out) {
  for (const auto& [test, body] : stmt.branches) {
    INFERD_ASSIGN_OR_RETURN(Value cond, eval(*test, frame));
    if (truthy(cond)) return exec_body(body, frame, out);
  }
  return exec_body(stmt.otherwise, frame, out);
}

Status Context::exec_for(const ForStmt& stmt, const FramePtr& frame, const Value& iterable,
                         uint32_t depth0, std::string& out) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(iterable));
  if (stmt.filter != nullptr) {
    std::vector<Value> kept;
    for (Value& item : items) {
      INFERD_RETURN_IF_ERROR(budget_.count_loop_iteration());
      auto test_frame = std::make_shared<Frame>(frame);
      INFERD_RETURN_IF_ERROR(assign(*stmt.target, item, test_frame));
      INFERD_ASSIGN_OR_RETURN(Value cond, eval(*stmt.filter, test_frame));
      if (truthy(cond)) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  // As in jinja2, the else block runs unless some iteration ran its body to the end (an
  // iteration left by break or continue does not count).
  bool completed_iteration = false;
  auto run_else = [&]() -> Status {
    if (completed_iteration || stmt.otherwise.empty()) return Status::ok_status();
    auto else_frame = std::make_shared<Frame>(frame);
    INFERD_ASSIGN_OR_RETURN(Flow flow, exec_body(stmt.otherwise, else_frame, out));
    (void)flow;
    return Status::ok_status();
  };
  if (items.empty()) return run_else();
  const size_t n = items.size();
  auto loop = std::make_shared<LoopObject>(
      std::move(items), depth0, stmt.recursive ? &stmt : nullptr, stmt.recursive ? frame : nullptr);
  track(loop);
  const Value loop_value = Value::object(loop);
  for (size_t i = 0; i < n; ++i) {
    INFERD_RETURN_IF_ERROR(budget_.count_loop_iteration());
    loop->set_index0(i);
    auto iter_frame = std::make_shared<Frame>(frame);
    iter_frame->set("loop", loop_value);
    INFERD_RETURN_IF_ERROR(assign(*stmt.target, loop->items()[i], iter_frame));
    INFERD_ASSIGN_OR_RETURN(Flow flow, exec_body(stmt.body, iter_frame, out));
    if (flow == Flow::kBreak) break;
    if (flow == Flow::kNormal) completed_iteration = true;
  }
  return run_else();
}

Result<Value> Context::render_recursive_loop(const ForStmt& stmt, const FramePtr& frame,
                                             const Value& iterable, uint32_t depth0) {
  if (call_depth_ >= limits().max_call_depth) {
    return resource_exhausted("template calls nested deeper than {} levels",
                              limits().max_call_depth);
  }
  ++call_depth_;
  std::string out;
  Status st = exec_for(stmt, frame, iterable, depth0, out);
  --call_depth_;
  INFERD_RETURN_IF_ERROR(st);
  return Value::string(std::move(out));
}

Status Context::assign(const Expr& target, const Value& value, const FramePtr& frame) {
  switch (target.kind) {
    case ExprKind::kName:
      frame->set(static_cast<const NameExpr&>(target).name, value);
      return Status::ok_status();
    case ExprKind::kNsRef: {
      const auto& ref = static_cast<const NsRefExpr&>(target);
      const Value* ns = frame->lookup(ref.name);
      if (ns == nullptr || !ns->is_object() || !ns->as_object().is_namespace()) {
        return invalid_argument("cannot assign attribute on non-namespace object");
      }
      return ns->as_object().set_attr(ref.attr, value);
    }
    case ExprKind::kTuple: {
      const auto& targets = static_cast<const SeqExpr&>(target).items;
      INFERD_ASSIGN_OR_RETURN(std::vector<Value> values, py_iterate(value));
      if (values.size() > targets.size()) {
        return invalid_argument("too many values to unpack (expected {})", targets.size());
      }
      if (values.size() < targets.size()) {
        return invalid_argument("not enough values to unpack (expected {}, got {})", targets.size(),
                                values.size());
      }
      for (size_t i = 0; i < targets.size(); ++i) {
        INFERD_RETURN_IF_ERROR(assign(*targets[i], values[i], frame));
      }
      return Status::ok_status();
    }
    default: return invalid_argument("can't assign to this expression");
  }
}

Status Context::exec_call_block(const CallBlockStmt& stmt, const FramePtr& frame,
                                std::string& out) {
  const auto& call = static_cast<const CallExpr&>(*stmt.call);
  auto caller = std::make_shared<MacroObject>("caller", &stmt.signature, &stmt.body, frame);
  track(caller);
  INFERD_ASSIGN_OR_RETURN(Value callee, eval(*call.callee, frame));
  CallArgs args;
  INFERD_RETURN_IF_ERROR(eval_args(call.args, frame, args));
  args.keywords.emplace_back("caller", Value::object(caller));
  auto result = this->call(callee, args);
  if (!result.ok()) return locate(result.status(), stmt.offset);
  INFERD_ASSIGN_OR_RETURN(std::string text, to_str(*result));
  return locate(append(out, text), stmt.offset);
}

Result<Value> Context::invoke_macro(MacroObject& macro, CallArgs& args) {
  const MacroSignature& sig = macro.signature();
  const size_t n = sig.params.size();
  std::vector<std::pair<std::string, Value>> kwargs = args.keywords;
  auto pop_kwarg = [&](std::string_view name, Value& out) {
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
      if (it->first == name) {
        out = std::move(it->second);
        kwargs.erase(it);
        return true;
      }
    }
    return false;
  };
  const size_t given = std::min(args.positional.size(), n);
  std::vector<Value> bound(n);
  std::vector<bool> present(n, false);
  for (size_t i = 0; i < given; ++i) {
    bound[i] = args.positional[i];
    present[i] = true;
  }
  bool found_caller = false;
  if (given != n) {
    for (size_t i = given; i < n; ++i) {
      if (pop_kwarg(sig.params[i], bound[i])) present[i] = true;
      if (sig.params[i] == "caller") found_caller = true;
    }
  } else {
    found_caller = std::find(sig.params.begin(), sig.params.end(), "caller") != sig.params.end();
  }
  Value caller;
  if (sig.uses_caller && !found_caller) {
    if (!pop_kwarg("caller", caller)) caller = Value::undefined("No caller defined");
  }
  Value kwargs_value;
  if (sig.uses_kwargs) {
    auto dict = std::make_shared<DictData>();
    for (auto& [k, v] : kwargs) INFERD_RETURN_IF_ERROR(dict->set(Value::string(k), v));
    kwargs_value = Value::dict(std::move(dict));
  } else if (!kwargs.empty()) {
    for (const auto& kv : kwargs) {
      if (kv.first == "caller") {
        return invalid_argument(
            "macro '{}' was invoked with two values for the special caller argument. This is "
            "most likely a bug.",
            macro.name());
      }
    }
    return invalid_argument("macro '{}' takes no keyword argument '{}'", macro.name(),
                            kwargs.front().first);
  }
  Value varargs_value;
  if (sig.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = n; i < args.positional.size(); ++i) extra.push_back(args.positional[i]);
    varargs_value = Value::tuple(std::move(extra));
  } else if (args.positional.size() > n) {
    return invalid_argument("macro '{}' takes not more than {} argument(s)", macro.name(), n);
  }
  if (call_depth_ >= limits().max_call_depth) {
    return resource_exhausted("template calls nested deeper than {} levels",
                              limits().max_call_depth);
  }
  if (macro.closure() == nullptr) {
    return invalid_argument("macro '{}' called after its template finished", macro.name());
  }
  auto frame = std::make_shared<Frame>(macro.closure());
  const size_t first_default = n - sig.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (present[i]) {
      frame->set(sig.params[i], bound[i]);
    } else if (i >= first_default) {
      INFERD_ASSIGN_OR_RETURN(Value d, eval(*sig.defaults[i - first_default], frame));
      frame->set(sig.params[i], std::move(d));
    } else {
      frame->set(sig.params[i],
                 Value::undefined(fmt::format("parameter '{}' was not provided", sig.params[i])));
    }
  }
  if (sig.uses_caller && !found_caller) frame->set("caller", caller);
  if (sig.uses_kwargs) frame->set("kwargs", kwargs_value);
  if (sig.uses_varargs) frame->set("varargs", varargs_value);
  ++call_depth_;
  std::string out;
  auto flow = exec_body(macro.body(), frame, out);
  --call_depth_;
  if (!flow.ok()) return flow.status();
  return Value::string(std::move(out));
}

}  // namespace inferd::chat::jinja
