// jinja2's sandboxed attribute access, item access and calls.
#include "chat/jinja/context.h"
#include "chat/jinja/filters.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/tests.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

Value missing_attribute(const Value& obj, std::string_view name) {
  return Value::undefined(
      fmt::format("{} has no attribute {}", string_repr(object_type_repr(obj)), string_repr(name)));
}

Value missing_item(const Value& obj, const Value& key) {
  if (key.is_string()) return missing_attribute(obj, key.as_string());
  auto key_repr = repr(key);
  return Value::undefined(fmt::format("{} has no element {}", object_type_repr(obj),
                                      key_repr.ok() ? *key_repr : std::string("?")));
}

// Python index into a sequence of `size` items; false when out of range.
bool resolve_index(int64_t index, size_t size, size_t& out) {
  const int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  out = static_cast<size_t>(index);
  return true;
}

}  // namespace

Result<Value> Context::getattr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) return undefined_error(obj);
  if (obj.is_object()) {
    Value out;
    INFERD_ASSIGN_OR_RETURN(bool found, obj.as_object().get_attr(*this, name, out));
    if (found) return out;
    return missing_attribute(obj, name);
  }
  Value method;
  if (lookup_method(obj, name, method)) return method;
  if (obj.is_dict()) {
    if (const Value* v = obj.as_dict().find(name)) return *v;
  }
  return missing_attribute(obj, name);
}

Result<Value> Context::getitem(const Value& obj, const Value& key) {
  switch (obj.kind()) {
    case ValueKind::kUndefined: return undefined_error(obj);
    case ValueKind::kDict: {
      if (const Value* v = obj.as_dict().find(key)) return *v;
      break;
    }
    case ValueKind::kList:
    case ValueKind::kTuple: {
      size_t i;
      if (key.is_integral() && resolve_index(key.as_int(), obj.items().size(), i)) {
        return obj.items()[i];
      }
      break;
    }
    case ValueKind::kString: {
      if (!key.is_integral()) break;
      const std::string& s = obj.as_string();
      size_t i;
      if (unicode::is_ascii(s)) {
        if (resolve_index(key.as_int(), s.size(), i))
          return Value::string(s.substr(i, 1), obj.is_markup());
        break;
      }
      const std::u32string u = unicode::to_u32(s);
      if (resolve_index(key.as_int(), u.size(), i)) {
        std::string ch;
        unicode::append_utf8(ch, u[i]);
        return Value::string(std::move(ch), obj.is_markup());
      }
      break;
    }
    case ValueKind::kIterator: {
      const IteratorData& it = obj.as_iterator();
      size_t i;
      if (it.flavor == IteratorData::Flavor::kRange && key.is_integral() &&
          resolve_index(key.as_int(), it.items.size(), i)) {
        return it.items[i];
      }
      break;
    }
    case ValueKind::kObject: {
      if (!key.is_string()) break;
      Value out;
      INFERD_ASSIGN_OR_RETURN(bool found, obj.as_object().get_attr(*this, key.as_string(), out));
      if (found) return out;
      break;
    }
    default: break;
  }
  if (key.is_string()) {
    Value method;
    if (lookup_method(obj, key.as_string(), method)) return method;
  }
  return missing_item(obj, key);
}

Result<Value> Context::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) return undefined_error(callee);
  if (callee.is_object() && callee.as_object().callable()) {
    return callee.as_object().call(*this, args);
  }
  return invalid_argument("'{}' object is not callable", py_type_name(callee));
}

Result<Value> Context::call_filter(std::string_view name, const Value& input, CallArgs& args) {
  const FilterFn* fn = find_filter(name);
  if (fn == nullptr) return invalid_argument("No filter named '{}'.", name);
  return (*fn)(*this, input, args);
}

Result<bool> Context::call_test(std::string_view name, const Value& input, CallArgs& args) {
  const TestFn* fn = find_test(name);
  if (fn == nullptr) return invalid_argument("No test named '{}'.", name);
  return (*fn)(*this, input, args);
}

}  // namespace inferd::chat::jinja
