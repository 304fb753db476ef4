// The table of Jinja filters (`value | name(args)`): jinja2's builtin filters as a Hugging Face
// environment has them, with `tojson` behaving as transformers defines it (json.dumps with
// ensure_ascii=False, optional indent, separators and sort_keys).
#pragma once

#include <string_view>

#include "base/status.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

using FilterFn = Result<Value> (*)(Context& ctx, const Value& input, CallArgs& args);

// The filter named `name`, or nullptr.
const FilterFn* find_filter(std::string_view name);
bool is_known_filter(std::string_view name);

}  // namespace inferd::chat::jinja
