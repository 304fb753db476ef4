// Python string formatting: printf-style `fmt % args` (also the `format` filter) and
// str.format() with the format-spec mini-language, including Markup's escaping of arguments.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/jinja/limits.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

// `fmt % args`: `args` is a tuple of positional values, a mapping for %(name)s, or one value.
Result<Value> percent_format(Budget& budget, const Value& fmt, const Value& args);

// Looks up `obj.name` (is_attr) or `obj[key]` for str.format() field names such as {0.name}.
using FieldLookup =
    std::function<Result<Value>(const Value& obj, bool is_attr, const std::string& key)>;

// `fmt.format(*args, **kwargs)`.
Result<Value> str_format(Budget& budget, const Value& fmt, const CallArgs& args,
                         const FieldLookup& lookup);

// format(value, spec): the format-spec mini-language for str, int, float, bool and None.
Result<std::string> format_with_spec(const Value& v, std::string_view spec);

}  // namespace inferd::chat::jinja
