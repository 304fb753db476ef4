// Value: the dynamically typed value of the Jinja interpreter, modelled on the Python objects a
// jinja2 template sees (None, bool, int, float, str, list, tuple, dict, iterators, namespaces,
// macros and builtins) plus jinja2's Undefined.
//
// Values are cheap to copy: scalars inline, everything else behind a shared pointer. Strings,
// lists, tuples and dicts are immutable once built (the sandbox forbids mutating methods);
// iterators and objects (namespaces, loop contexts, cyclers) carry mutable state shared by all
// copies, like Python references.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

namespace inferd::chat::jinja {

class Value;
class Context;

enum class ValueKind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,
  kTuple,
  kDict,
  kIterator,
  kObject,
};

// Positional and keyword arguments of a call, as evaluated.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;
};

// Objects with attributes and/or call behaviour (namespace, loop, macro, builtin function,
// bound method, cycler, joiner). Implementations live beside the feature they model.
class Object : public std::enable_shared_from_this<Object> {
 public:
  virtual ~Object() = default;
  // Python type name, used in error messages ("Namespace", "LoopContext", "Macro", ...).
  virtual std::string_view type_name() const = 0;
  // jinja2's object_type_repr(): how "undefined" messages name this object.
  virtual std::string object_type_repr() const;
  virtual Result<std::string> repr() const = 0;
  // The attribute `name`, or false when the object has none.
  virtual Result<bool> get_attr(Context& ctx, std::string_view name, Value& out);
  virtual bool callable() const { return false; }
  virtual Result<Value> call(Context& ctx, CallArgs& args);
  // Set by jinja2 namespaces only.
  virtual bool is_namespace() const { return false; }
  virtual Status set_attr(std::string_view name, Value value);
  // Python len(); -1 when the object has no length.
  virtual int64_t length() const { return -1; }
};

// The items of a list or tuple.
struct ListData {
  std::vector<Value> items;
  uint32_t depth = 1;  // nesting depth of containers, including this one
};

// An insertion-ordered dict with Python key semantics (1 == 1.0 == True; str keys hashed).
class DictData {
 public:
  // Inserts `key` or replaces its value in place. Fails for unhashable keys (list, dict).
  Status set(Value key, Value value);
  // The value for `key`, or nullptr (also for unhashable keys).
  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  uint32_t depth() const { return depth_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, size_t> string_index_;
  uint32_t depth_ = 1;
};

// Python iterators and views, materialised: generators (map, select, ...), reversed(),
// dict.items()/keys()/values() views and range objects.
struct IteratorData {
  enum class Flavor : uint8_t {
    kGenerator,    // single pass, no len(), always true
    kReverseIter,  // reversed(list): single pass, no len()
    kDictView,     // dict_items/dict_keys/dict_values: re-iterable, sized
    kRange,        // range: re-iterable, sized, subscriptable
  };
  Flavor flavor = Flavor::kGenerator;
  std::string type_name;  // "generator", "list_reverseiterator", "dict_items", "range", ...
  std::string producer;   // generator function name for repr ("sync_do_map", ...)
  std::vector<Value> items;
  size_t pos = 0;  // next item for single-pass flavors
  int64_t range_start = 0, range_stop = 0, range_step = 1;

  bool single_pass() const {
    return flavor == Flavor::kGenerator || flavor == Flavor::kReverseIter;
  }
  bool sized() const { return !single_pass(); }
};

class Value {
 public:
  // An undefined value with jinja2's default message.
  Value() = default;

  static Value undefined(std::string message, bool security_error = false);
  static Value none() { return Value(ValueKind::kNone); }
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s, bool markup = false);
  static Value list(std::vector<Value> items);
  static Value tuple(std::vector<Value> items);
  static Value dict(std::shared_ptr<DictData> dict);
  static Value iterator(std::shared_ptr<IteratorData> it);
  static Value object(std::shared_ptr<Object> obj);

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  // int, float or bool (Python's numbers.Number).
  bool is_number() const {
    return kind_ == ValueKind::kInt || kind_ == ValueKind::kFloat || kind_ == ValueKind::kBool;
  }
  // int or bool (Python's int, of which bool is a subclass).
  bool is_integral() const { return kind_ == ValueKind::kInt || kind_ == ValueKind::kBool; }
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_markup() const { return kind_ == ValueKind::kString && markup_; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_tuple() const { return kind_ == ValueKind::kTuple; }
  bool is_sequence() const { return kind_ == ValueKind::kList || kind_ == ValueKind::kTuple; }
  bool is_dict() const { return kind_ == ValueKind::kDict; }
  bool is_iterator() const { return kind_ == ValueKind::kIterator; }
  bool is_object() const { return kind_ == ValueKind::kObject; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == ValueKind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_float() const {
    return kind_ == ValueKind::kFloat ? f_ : static_cast<double>(as_int());
  }
  const std::string& as_string() const { return *static_cast<const std::string*>(ptr_.get()); }
  const std::vector<Value>& items() const {
    return static_cast<const ListData*>(ptr_.get())->items;
  }
  const DictData& as_dict() const { return *static_cast<const DictData*>(ptr_.get()); }
  IteratorData& as_iterator() const { return *static_cast<IteratorData*>(ptr_.get()); }
  Object& as_object() const { return *static_cast<Object*>(ptr_.get()); }
  std::shared_ptr<Object> object_ptr() const { return std::static_pointer_cast<Object>(ptr_); }
  const std::string& undefined_message() const;
  bool undefined_is_security_error() const;

  // Nesting depth of lists, tuples and dicts (0 for everything else).
  uint32_t depth() const;
  // Identity of the referenced object (Python's `is`), or nullptr for inline scalars.
  const void* identity() const { return ptr_.get(); }

  // Copy of a string value with the markup (markupsafe.Markup) flag set or cleared.
  Value with_markup(bool markup) const;

 private:
  explicit Value(ValueKind kind) : kind_(kind) {}

  ValueKind kind_ = ValueKind::kUndefined;
  bool markup_ = false;
  union {
    bool b_;
    int64_t i_ = 0;
    double f_;
  };
  std::shared_ptr<void> ptr_;
};

// Python's type name of a value ("int", "str", "NoneType", "list", "Undefined", ...).
std::string py_type_name(const Value& v);
// jinja2's object_type_repr(): "None", "dict object", "jinja2.utils.Namespace object", ...
std::string object_type_repr(const Value& v);
// Makes a generator iterator over `items` (the result of map/select/... filters).
Value make_generator(std::string producer, std::vector<Value> items);

}  // namespace inferd::chat::jinja
