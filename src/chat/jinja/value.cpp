#include "chat/jinja/value.h"

#include <algorithm>

#include "chat/jinja/py_ops.h"

namespace inferd::chat::jinja {
namespace {

struct UndefinedData {
  std::string message;
  bool security_error = false;
};

const std::string& default_undefined_message() {
  static const std::string* const kMessage = new std::string("value is undefined");
  return *kMessage;
}

bool is_hashable(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kList:
    case ValueKind::kDict: return false;
    case ValueKind::kTuple: return std::all_of(v.items().begin(), v.items().end(), is_hashable);
    default: return true;
  }
}

uint32_t items_depth(const std::vector<Value>& items) {
  uint32_t d = 0;
  for (const Value& v : items) d = std::max(d, v.depth());
  return d + 1;
}

}  // namespace

std::string Object::object_type_repr() const {
  return std::string(type_name()) + " object";
}

Result<bool> Object::get_attr(Context&, std::string_view, Value&) {
  return false;
}

Result<Value> Object::call(Context&, CallArgs&) {
  return invalid_argument("'{}' object is not callable", type_name());
}

Status Object::set_attr(std::string_view, Value) {
  return invalid_argument("cannot assign attribute on non-namespace object");
}

Status DictData::set(Value key, Value value) {
  if (!is_hashable(key)) return invalid_argument("unhashable type: '{}'", py_type_name(key));
  depth_ = std::max({depth_, key.depth() + 1, value.depth() + 1});
  if (key.is_string()) {
    auto [it, inserted] = string_index_.try_emplace(key.as_string(), entries_.size());
    if (!inserted) {
      entries_[it->second].second = std::move(value);
      return Status::ok_status();
    }
    entries_.emplace_back(std::move(key), std::move(value));
    return Status::ok_status();
  }
  for (auto& entry : entries_) {
    if (!entry.first.is_string() && py_equal(entry.first, key)) {
      entry.second = std::move(value);
      return Status::ok_status();
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
  return Status::ok_status();
}

const Value* DictData::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  if (!is_hashable(key)) return nullptr;
  for (const auto& entry : entries_) {
    if (!entry.first.is_string() && py_equal(entry.first, key)) return &entry.second;
  }
  return nullptr;
}

const Value* DictData::find(std::string_view key) const {
  auto it = string_index_.find(std::string(key));
  if (it == string_index_.end()) return nullptr;
  return &entries_[it->second].second;
}

Value Value::undefined(std::string message, bool security_error) {
  Value v(ValueKind::kUndefined);
  auto data = std::make_shared<UndefinedData>();
  data->message = std::move(message);
  data->security_error = security_error;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::boolean(bool b) {
  Value v(ValueKind::kBool);
  v.b_ = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v(ValueKind::kInt);
  v.i_ = i;
  return v;
}

Value Value::number(double f) {
  Value v(ValueKind::kFloat);
  v.f_ = f;
  return v;
}

Value Value::string(std::string s, bool markup) {
  Value v(ValueKind::kString);
  v.markup_ = markup;
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::list(std::vector<Value> items) {
  Value v(ValueKind::kList);
  auto data = std::make_shared<ListData>();
  data->depth = items_depth(items);
  data->items = std::move(items);
  v.ptr_ = std::move(data);
  return v;
}

Value Value::tuple(std::vector<Value> items) {
  Value v = list(std::move(items));
  v.kind_ = ValueKind::kTuple;
  return v;
}

Value Value::dict(std::shared_ptr<DictData> dict) {
  Value v(ValueKind::kDict);
  v.ptr_ = std::move(dict);
  return v;
}

Value Value::iterator(std::shared_ptr<IteratorData> it) {
  Value v(ValueKind::kIterator);
  v.ptr_ = std::move(it);
  return v;
}

Value Value::object(std::shared_ptr<Object> obj) {
  Value v(ValueKind::kObject);
  v.ptr_ = std::move(obj);
  return v;
}

const std::string& Value::undefined_message() const {
  if (kind_ != ValueKind::kUndefined || ptr_ == nullptr) return default_undefined_message();
  return static_cast<const UndefinedData*>(ptr_.get())->message;
}

bool Value::undefined_is_security_error() const {
  if (kind_ != ValueKind::kUndefined || ptr_ == nullptr) return false;
  return static_cast<const UndefinedData*>(ptr_.get())->security_error;
}

uint32_t Value::depth() const {
  switch (kind_) {
    case ValueKind::kList:
    case ValueKind::kTuple: return static_cast<const ListData*>(ptr_.get())->depth;
    case ValueKind::kDict: return static_cast<const DictData*>(ptr_.get())->depth();
    default: return 0;
  }
}

Value Value::with_markup(bool markup) const {
  if (kind_ != ValueKind::kString || markup_ == markup) return *this;
  Value v = *this;
  v.markup_ = markup;
  return v;
}

std::string py_type_name(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return "Undefined";
    case ValueKind::kNone: return "NoneType";
    case ValueKind::kBool: return "bool";
    case ValueKind::kInt: return "int";
    case ValueKind::kFloat: return "float";
    case ValueKind::kString: return v.is_markup() ? "Markup" : "str";
    case ValueKind::kList: return "list";
    case ValueKind::kTuple: return "tuple";
    case ValueKind::kDict: return "dict";
    case ValueKind::kIterator: return v.as_iterator().type_name;
    case ValueKind::kObject: return std::string(v.as_object().type_name());
  }
  return "object";
}

std::string object_type_repr(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNone: return "None";
    case ValueKind::kUndefined: return "jinja2.runtime.Undefined object";
    case ValueKind::kString: return v.is_markup() ? "markupsafe.Markup object" : "str object";
    case ValueKind::kObject: return v.as_object().object_type_repr();
    default: return py_type_name(v) + " object";
  }
}

Value make_generator(std::string producer, std::vector<Value> items) {
  auto it = std::make_shared<IteratorData>();
  it->flavor = IteratorData::Flavor::kGenerator;
  it->type_name = "generator";
  it->producer = std::move(producer);
  it->items = std::move(items);
  return Value::iterator(std::move(it));
}

}  // namespace inferd::chat::jinja
