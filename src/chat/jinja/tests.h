// The table of Jinja tests (`value is name(args)`), jinja2's builtin set.
#pragma once

#include <string_view>

#include "base/status.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

using TestFn = Result<bool> (*)(Context& ctx, const Value& input, CallArgs& args);

// The test named `name`, or nullptr.
const TestFn* find_test(std::string_view name);
bool is_known_test(std::string_view name);

}  // namespace inferd::chat::jinja
