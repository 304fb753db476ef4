// Python-style binding of call arguments to named parameters for builtin filters, tests,
// functions and methods.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

struct Param {
  std::string_view name;
  bool required = false;
  Value default_value;  // used when not required and not given
};

inline Param required(std::string_view name) {
  return Param{name, true, Value()};
}
inline Param optional(std::string_view name, Value default_value) {
  return Param{name, false, std::move(default_value)};
}

// Binds positional then keyword arguments to `params` in order; missing optional parameters
// take their defaults. Errors name the function like Python does.
Result<std::vector<Value>> bind_args(std::string_view function, const CallArgs& args,
                                     std::initializer_list<Param> params);

// Fails unless the call has no arguments at all.
Status expect_no_args(std::string_view function, const CallArgs& args);

}  // namespace inferd::chat::jinja
