// The Object kinds of the interpreter: jinja2 namespaces, builtin functions and bound methods,
// macros (and {% call %} callers), loop contexts, cyclers and joiners.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

class Frame;

// Objects that may take part in reference cycles (a macro stored in the frame it closes over,
// a namespace holding itself) drop their references when the render ends.
class Releasable {
 public:
  virtual ~Releasable() = default;
  virtual void release() = 0;
};

// jinja2.utils.Namespace: a mutable attribute bag ({% set ns.attr = value %}).
class NamespaceObject final : public Object, public Releasable {
 public:
  NamespaceObject() : attrs_(std::make_shared<DictData>()) {}
  std::string_view type_name() const override { return "Namespace"; }
  std::string object_type_repr() const override { return "jinja2.utils.Namespace object"; }
  Result<std::string> repr() const override;
  Result<bool> get_attr(Context& ctx, std::string_view name, Value& out) override;
  bool is_namespace() const override { return true; }
  Status set_attr(std::string_view name, Value value) override;
  void release() override { attrs_ = std::make_shared<DictData>(); }

 private:
  std::shared_ptr<DictData> attrs_;
};

// A builtin function or a method bound to its receiver.
class NativeFunction final : public Object {
 public:
  using Fn = std::function<Result<Value>(Context&, CallArgs&)>;
  // `kind` is the Python type shown in messages: "builtin_function_or_method", "function".
  NativeFunction(std::string name, Fn fn, std::string kind = "builtin_function_or_method")
      : name_(std::move(name)), fn_(std::move(fn)), kind_(std::move(kind)) {}
  std::string_view type_name() const override { return kind_; }
  Result<std::string> repr() const override;
  bool callable() const override { return true; }
  Result<Value> call(Context& ctx, CallArgs& args) override { return fn_(ctx, args); }

 private:
  std::string name_;
  Fn fn_;
  std::string kind_;
};

Value make_function(std::string name, NativeFunction::Fn fn);

// A {% macro %} or the caller of a {% call %} block.
class MacroObject final : public Object, public Releasable {
 public:
  MacroObject(std::string name, const MacroSignature* signature, const Body* body,
              std::shared_ptr<Frame> closure)
      : name_(std::move(name)), signature_(signature), body_(body), closure_(std::move(closure)) {}
  std::string_view type_name() const override { return "Macro"; }
  std::string object_type_repr() const override { return "jinja2.runtime.Macro object"; }
  Result<std::string> repr() const override;
  Result<bool> get_attr(Context& ctx, std::string_view name, Value& out) override;
  bool callable() const override { return true; }
  Result<Value> call(Context& ctx, CallArgs& args) override;
  void release() override { closure_.reset(); }

  const std::string& name() const { return name_; }
  const MacroSignature& signature() const { return *signature_; }
  const Body& body() const { return *body_; }
  const std::shared_ptr<Frame>& closure() const { return closure_; }

 private:
  std::string name_;
  const MacroSignature* signature_;
  const Body* body_;
  std::shared_ptr<Frame> closure_;
};

// jinja2.runtime.LoopContext for one loop execution.
class LoopObject final : public Object, public Releasable {
 public:
  LoopObject(std::vector<Value> items, uint32_t depth0, const ForStmt* recursive_stmt,
             std::shared_ptr<Frame> frame)
      : items_(std::move(items)),
        depth0_(depth0),
        stmt_(recursive_stmt),
        frame_(std::move(frame)) {}
  std::string_view type_name() const override { return "LoopContext"; }
  std::string object_type_repr() const override { return "jinja2.runtime.LoopContext object"; }
  Result<std::string> repr() const override;
  Result<bool> get_attr(Context& ctx, std::string_view name, Value& out) override;
  bool callable() const override { return true; }
  Result<Value> call(Context& ctx, CallArgs& args) override;
  int64_t length() const override { return static_cast<int64_t>(items_.size()); }
  void release() override {
    frame_.reset();
    items_.clear();
    last_changed_.clear();
  }

  void set_index0(size_t i) { index0_ = i; }
  const std::vector<Value>& items() const { return items_; }

 private:
  std::vector<Value> items_;
  size_t index0_ = 0;
  uint32_t depth0_;
  const ForStmt* stmt_;           // non-null for recursive loops
  std::shared_ptr<Frame> frame_;  // the frame the loop runs in (recursive loops)
  bool has_last_changed_ = false;
  std::vector<Value> last_changed_;
};

// jinja2.utils.Cycler and Joiner (the `cycler` and `joiner` globals).
class CyclerObject final : public Object {
 public:
  explicit CyclerObject(std::vector<Value> items) : items_(std::move(items)) {}
  std::string_view type_name() const override { return "Cycler"; }
  std::string object_type_repr() const override { return "jinja2.utils.Cycler object"; }
  Result<std::string> repr() const override;
  Result<bool> get_attr(Context& ctx, std::string_view name, Value& out) override;

 private:
  std::vector<Value> items_;
  size_t pos_ = 0;
};

class JoinerObject final : public Object {
 public:
  explicit JoinerObject(Value sep) : sep_(std::move(sep)) {}
  std::string_view type_name() const override { return "Joiner"; }
  std::string object_type_repr() const override { return "jinja2.utils.Joiner object"; }
  Result<std::string> repr() const override;
  bool callable() const override { return true; }
  Result<Value> call(Context& ctx, CallArgs& args) override;

 private:
  Value sep_;
  bool used_ = false;
};

}  // namespace inferd::chat::jinja
