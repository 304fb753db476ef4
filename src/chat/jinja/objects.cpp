#include "chat/jinja/objects.h"

#include "chat/jinja/args.h"
#include "chat/jinja/context.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {

Result<std::string> NamespaceObject::repr() const {
  INFERD_ASSIGN_OR_RETURN(std::string attrs, jinja::repr(Value::dict(attrs_)));
  return "<Namespace " + attrs + ">";
}

Result<bool> NamespaceObject::get_attr(Context&, std::string_view name, Value& out) {
  const Value* v = attrs_->find(name);
  if (v == nullptr) return false;
  out = *v;
  return true;
}

Status NamespaceObject::set_attr(std::string_view name, Value value) {
  return attrs_->set(Value::string(std::string(name)), std::move(value));
}

Result<std::string> NativeFunction::repr() const {
  return "<built-in function " + name_ + ">";
}

Value make_function(std::string name, NativeFunction::Fn fn) {
  return Value::object(std::make_shared<NativeFunction>(std::move(name), std::move(fn)));
}

Result<std::string> MacroObject::repr() const {
  return "<Macro " + string_repr(name_) + ">";
}

Result<bool> MacroObject::get_attr(Context&, std::string_view name, Value& out) {
  if (name == "name") {
    out = Value::string(name_);
  } else if (name == "arguments") {
    std::vector<Value> params;
    for (const auto& p : signature_->params) params.push_back(Value::string(p));
    out = Value::tuple(std::move(params));
  } else if (name == "catch_kwargs") {
    out = Value::boolean(signature_->uses_kwargs);
  } else if (name == "catch_varargs") {
    out = Value::boolean(signature_->uses_varargs);
  } else if (name == "caller") {
    out = Value::boolean(signature_->uses_caller);
  } else {
    return false;
  }
  return true;
}

Result<Value> MacroObject::call(Context& ctx, CallArgs& args) {
  return ctx.invoke_macro(*this, args);
}

Result<std::string> LoopObject::repr() const {
  return fmt::format("<LoopContext {}/{}>", index0_ + 1, items_.size());
}

Result<bool> LoopObject::get_attr(Context&, std::string_view name, Value& out) {
  const int64_t length = static_cast<int64_t>(items_.size());
  const int64_t index0 = static_cast<int64_t>(index0_);
  if (name == "index") {
    out = Value::integer(index0 + 1);
  } else if (name == "index0") {
    out = Value::integer(index0);
  } else if (name == "revindex") {
    out = Value::integer(length - index0);
  } else if (name == "revindex0") {
    out = Value::integer(length - index0 - 1);
  } else if (name == "first") {
    out = Value::boolean(index0 == 0);
  } else if (name == "last") {
    out = Value::boolean(index0 + 1 >= length);
  } else if (name == "length") {
    out = Value::integer(length);
  } else if (name == "depth") {
    out = Value::integer(depth0_ + 1);
  } else if (name == "depth0") {
    out = Value::integer(depth0_);
  } else if (name == "previtem") {
    out = index0 == 0 ? Value::undefined("there is no previous item") : items_[index0_ - 1];
  } else if (name == "nextitem") {
    out = index0 + 1 >= length ? Value::undefined("there is no next item") : items_[index0_ + 1];
  } else if (name == "cycle") {
    const size_t index = index0_;
    out = make_function("cycle", [index](Context&, CallArgs& args) -> Result<Value> {
      if (!args.keywords.empty()) {
        return invalid_argument("cycle() got an unexpected keyword argument '{}'",
                                args.keywords.front().first);
      }
      if (args.positional.empty()) return invalid_argument("no items for cycling given");
      return args.positional[index % args.positional.size()];
    });
  } else if (name == "changed") {
    auto loop = std::static_pointer_cast<LoopObject>(shared_from_this());
    out = make_function("changed", [loop](Context&, CallArgs& args) -> Result<Value> {
      if (!args.keywords.empty()) {
        return invalid_argument("changed() got an unexpected keyword argument '{}'",
                                args.keywords.front().first);
      }
      bool same = loop->has_last_changed_ && loop->last_changed_.size() == args.positional.size();
      for (size_t i = 0; same && i < args.positional.size(); ++i) {
        same = py_equal(loop->last_changed_[i], args.positional[i]);
      }
      if (same) return Value::boolean(false);
      loop->last_changed_ = args.positional;
      loop->has_last_changed_ = true;
      return Value::boolean(true);
    });
  } else {
    return false;
  }
  return true;
}

Result<Value> LoopObject::call(Context& ctx, CallArgs& args) {
  if (stmt_ == nullptr || frame_ == nullptr) {
    return invalid_argument("The loop must have the 'recursive' marker to be called recursively.");
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> bound,
                          bind_args("loop", args, {required("iterable")}));
  return ctx.render_recursive_loop(*stmt_, frame_, bound[0], depth0_ + 1);
}

Result<std::string> CyclerObject::repr() const {
  return std::string("<jinja2.utils.Cycler object at 0x7f0000000000>");
}

Result<bool> CyclerObject::get_attr(Context&, std::string_view name, Value& out) {
  if (name == "current") {
    out = items_[pos_];
  } else if (name == "next") {
    auto self = std::static_pointer_cast<CyclerObject>(shared_from_this());
    out = make_function("next", [self](Context&, CallArgs& args) -> Result<Value> {
      INFERD_RETURN_IF_ERROR(expect_no_args("next", args));
      Value v = self->items_[self->pos_];
      self->pos_ = (self->pos_ + 1) % self->items_.size();
      return v;
    });
  } else if (name == "reset") {
    auto self = std::static_pointer_cast<CyclerObject>(shared_from_this());
    out = make_function("reset", [self](Context&, CallArgs& args) -> Result<Value> {
      INFERD_RETURN_IF_ERROR(expect_no_args("reset", args));
      self->pos_ = 0;
      return Value::none();
    });
  } else if (name == "items") {
    out = Value::tuple(items_);
  } else if (name == "pos") {
    out = Value::integer(static_cast<int64_t>(pos_));
  } else {
    return false;
  }
  return true;
}

Result<std::string> JoinerObject::repr() const {
  return std::string("<jinja2.utils.Joiner object at 0x7f0000000000>");
}

Result<Value> JoinerObject::call(Context&, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("joiner", args));
  if (!used_) {
    used_ = true;
    return Value::string("");
  }
  return sep_;
}

}  // namespace inferd::chat::jinja
