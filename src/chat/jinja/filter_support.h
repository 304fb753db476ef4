// Helpers shared by the filter implementations (filters.cpp, filters_seq.cpp).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "chat/jinja/context.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

// jinja2's make_attrgetter: follows a dotted path ("a.b.0") with environment.getitem; integer
// parts index sequences. `default_value` (when not undefined) replaces undefined results.
class AttrGetter {
 public:
  AttrGetter() = default;
  // `attribute` may be a string path, an integer, or none/undefined (identity).
  static Result<AttrGetter> make(const Value& attribute, Value default_value = Value(),
                                 bool lower_strings = false);
  Result<Value> operator()(Context& ctx, const Value& item) const;

 private:
  std::vector<Value> parts_;
  Value default_;
  bool lower_ = false;
};

// Sorts `items` stably by `keys` (parallel vector) with Python ordering; fails when two keys
// cannot be compared.
Status sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse);

// Python's int(s, base) for a string; false when `s` is not a valid literal.
bool parse_py_int(std::string_view s, int base, int64_t& out);
// Python's float(s) for a string; false when `s` is not a valid literal.
bool parse_py_float(std::string_view s, double& out);

// Filters over sequences and mappings (filters_seq.cpp), registered in filters.cpp.
Result<Value> filter_batch(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_dictsort(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_first(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_items(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_join(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_last(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_length(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_list(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_map(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_max(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_min(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_reject(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_rejectattr(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_reverse(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_select(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_selectattr(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_slice(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_sort(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_sum(Context& ctx, const Value& input, CallArgs& args);
Result<Value> filter_unique(Context& ctx, const Value& input, CallArgs& args);

}  // namespace inferd::chat::jinja
