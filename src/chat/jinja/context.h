// Context: the state of one template render and the tree-walking evaluator. It owns the frames
// (variable scopes), the output, the resource budget, and implements jinja2's sandboxed
// attribute/item access and calls that filters, tests and methods use.
//
// Scoping follows jinja2: {% for %} iterations, macro calls, {% call %}, {% filter %},
// {% set %} blocks and {% with %} get a fresh frame whose parent is the enclosing one;
// {% if %} shares its frame. Lookups walk the frame chain, then the globals.
//
// Not thread-safe; one Context per render.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "chat/jinja/ast.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/objects.h"
#include "chat/jinja/source_map.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

class Frame {
 public:
  explicit Frame(std::shared_ptr<Frame> parent) : parent_(std::move(parent)) {}

  // The value bound to `name` in this frame or an enclosing one, or nullptr.
  const Value* lookup(std::string_view name) const;
  void set(std::string_view name, Value value);
  void clear() { vars_.clear(); }

 private:
  std::shared_ptr<Frame> parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};
using FramePtr = std::shared_ptr<Frame>;

class Context {
 public:
  // REQUIRES: `ast` outlives the context.
  Context(const TemplateAst& ast, const Limits& limits, std::time_t now);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Renders the template with the given top-level variables.
  Result<std::string> render(std::vector<std::pair<std::string, Value>> variables);

  Budget& budget() { return budget_; }
  const Limits& limits() const { return budget_.limits(); }
  std::time_t now() const { return now_; }

  // jinja2's sandboxed environment.getattr (attribute first, then item) and getitem (item
  // first, then attribute). Missing attributes and items yield Undefined.
  Result<Value> getattr(const Value& obj, std::string_view name);
  Result<Value> getitem(const Value& obj, const Value& key);
  Result<Value> call(const Value& callee, CallArgs& args);
  Result<Value> call_filter(std::string_view name, const Value& input, CallArgs& args);
  Result<bool> call_test(std::string_view name, const Value& input, CallArgs& args);

  // Keeps `obj` until the render ends, then releases its references (breaks cycles).
  void track(std::shared_ptr<Releasable> obj) { tracked_.push_back(std::move(obj)); }

  // An error raised on purpose by the template (raise_exception): reported without location.
  Status template_error(std::string message);

  Result<Value> invoke_macro(MacroObject& macro, CallArgs& args);
  // Renders a recursive loop's body over `iterable` one level deeper (loop(...) calls).
  Result<Value> render_recursive_loop(const ForStmt& stmt, const FramePtr& frame,
                                      const Value& iterable, uint32_t depth0);
  // Checks a freshly built container against the size and nesting limits.
  Status check_container(const Value& v);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // Statements (evaluator_stmt.cpp).
  Result<Flow> exec_body(const Body& body, const FramePtr& frame, std::string& out);
  Result<Flow> exec(const Stmt& stmt, const FramePtr& frame, std::string& out);
  Result<Flow> exec_output(const OutputStmt& stmt, const FramePtr& frame, std::string& out);
  Result<Flow> exec_if(const IfStmt& stmt, const FramePtr& frame, std::string& out);
  Status exec_for(const ForStmt& stmt, const FramePtr& frame, const Value& iterable,
                  uint32_t depth0, std::string& out);
  Status exec_call_block(const CallBlockStmt& stmt, const FramePtr& frame, std::string& out);
  Status assign(const Expr& target, const Value& value, const FramePtr& frame);
  Status append(std::string& out, std::string_view text);

  // Expressions (evaluator_expr.cpp).
  Result<Value> eval(const Expr& expr, const FramePtr& frame);
  Result<Value> eval_inner(const Expr& expr, const FramePtr& frame);
  Result<Value> eval_name(const NameExpr& expr, const FramePtr& frame);
  Result<Value> eval_getitem(const GetitemExpr& expr, const FramePtr& frame);
  Result<Value> eval_compare(const CompareExpr& expr, const FramePtr& frame);
  Status eval_args(const CallArgsExpr& args, const FramePtr& frame, CallArgs& out);
  // A filter chain; the innermost filter (null input) receives `input`.
  Result<Value> eval_filter(const FilterExpr& expr, const FramePtr& frame, const Value* input);
  Result<Value> eval_test(const TestExpr& expr, const FramePtr& frame);
  Result<Value> apply_filter_chain(const Expr& filter, const FramePtr& frame, Value input);

  Status locate(Status status, uint32_t offset);

  // Counts nested evaluation for the duration of one exec()/eval().
  class DepthGuard {
   public:
    explicit DepthGuard(Context& ctx) : ctx_(ctx) { ++ctx_.depth_; }
    ~DepthGuard() { --ctx_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Status check() const {
      if (ctx_.depth_ > ctx_.limits().max_eval_depth) {
        return resource_exhausted("template evaluation nested deeper than {} levels",
                                  ctx_.limits().max_eval_depth);
      }
      return Status::ok_status();
    }

   private:
    Context& ctx_;
  };

  const TemplateAst& ast_;
  SourceMap map_;
  Budget budget_;
  std::time_t now_;
  uint32_t depth_ = 0;
  uint32_t call_depth_ = 0;
  bool error_located_ = false;
  std::vector<std::shared_ptr<Releasable>> tracked_;
};

// The global functions of jinja2's sandbox and Hugging Face's environment (range, dict,
// namespace, cycler, joiner, raise_exception, strftime_now). False when `name` is none.
bool lookup_global(std::string_view name, Value& out);

// Python methods of str, list, tuple and dict values (bound to `receiver`). Mutating methods
// resolve to an undefined value that raises jinja2's SecurityError when used. False when the
// receiver has no such attribute.
bool lookup_method(const Value& receiver, std::string_view name, Value& out);

}  // namespace inferd::chat::jinja
