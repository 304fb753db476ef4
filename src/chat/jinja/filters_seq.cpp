// Filters over sequences and mappings. Like jinja2, map/select/reject/selectattr/rejectattr,
// unique, batch, slice and items return generators (single pass, no len(), always true), and
// reverse returns an iterator for lists.
#include <cmath>

#include "chat/jinja/args.h"
#include "chat/jinja/filter_support.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

Result<std::vector<Value>> iterate_charged(Context& ctx, const Value& v) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(v));
  INFERD_RETURN_IF_ERROR(ctx.budget().charge(items.size()));
  return items;
}

// The (key, value) pairs of a mapping, for dictsort.
Result<std::vector<Value>> mapping_items(const Value& v) {
  if (v.is_undefined()) return undefined_error(v);
  if (!v.is_dict())
    return invalid_argument("'{}' object has no attribute 'items'", py_type_name(v));
  std::vector<Value> out;
  for (const auto& [k, val] : v.as_dict().entries()) out.push_back(Value::tuple({k, val}));
  return out;
}

// select/reject/selectattr/rejectattr.
Result<Value> select_or_reject(Context& ctx, const Value& input, CallArgs& args, bool select,
                               bool lookup_attr, const char* producer) {
  std::vector<Value> out;
  if (!truthy(input)) return make_generator(producer, std::move(out));
  size_t off = 0;
  AttrGetter getter;
  if (lookup_attr) {
    if (args.positional.empty()) return invalid_argument("Missing parameter for attribute name");
    INFERD_ASSIGN_OR_RETURN(getter, AttrGetter::make(args.positional[0]));
    off = 1;
  }
  const bool has_test = args.positional.size() > off;
  std::string test_name;
  CallArgs test_args;
  if (has_test) {
    if (!args.positional[off].is_string()) {
      return invalid_argument("test name must be a string, not {}",
                              py_type_name(args.positional[off]));
    }
    test_name = args.positional[off].as_string();
    test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(off + 1),
                                args.positional.end());
    test_args.keywords = args.keywords;
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  for (Value& item : items) {
    INFERD_ASSIGN_OR_RETURN(Value subject, getter(ctx, item));
    bool result;
    if (has_test) {
      CallArgs call_args = test_args;
      INFERD_ASSIGN_OR_RETURN(result, ctx.call_test(test_name, subject, call_args));
    } else {
      result = truthy(subject);
    }
    if (result == select) out.push_back(std::move(item));
  }
  return make_generator(producer, std::move(out));
}

Result<Value> min_or_max(Context& ctx, const Value& input, CallArgs& args, bool want_max) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args(want_max ? "do_max" : "do_min", args,
                                    {optional("case_sensitive", Value::boolean(false)),
                                     optional("attribute", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  INFERD_ASSIGN_OR_RETURN(AttrGetter getter, AttrGetter::make(a[1], Value(), !truthy(a[0])));
  size_t best = 0;
  INFERD_ASSIGN_OR_RETURN(Value best_key, getter(ctx, items[0]));
  for (size_t i = 1; i < items.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(Value key, getter(ctx, items[i]));
    INFERD_ASSIGN_OR_RETURN(bool better,
                            want_max ? py_less(best_key, key, ">") : py_less(key, best_key, "<"));
    if (better) {
      best = i;
      best_key = std::move(key);
    }
  }
  return items[best];
}

}  // namespace

Result<Value> filter_first(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_first", args));
  if (input.is_iterator() && input.as_iterator().single_pass()) {
    IteratorData& it = input.as_iterator();
    if (it.pos < it.items.size()) return it.items[it.pos++];
    return Value::undefined("No first item, sequence was empty.");
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(input));
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Result<Value> filter_last(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_last", args));
  const bool reversible = input.is_undefined() || input.is_string() || input.is_sequence() ||
                          input.is_dict() ||
                          (input.is_iterator() && !input.as_iterator().single_pass());
  if (!reversible) return invalid_argument("'{}' object is not reversible", py_type_name(input));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(input));
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Result<Value> filter_length(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("len", args));
  INFERD_ASSIGN_OR_RETURN(int64_t n, py_len(input));
  return Value::integer(n);
}

Result<Value> filter_list(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_list", args));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  return Value::list(std::move(items));
}

Result<Value> filter_items(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_items", args));
  std::vector<Value> out;
  if (input.is_undefined()) return make_generator("do_items", std::move(out));
  if (!input.is_dict()) return invalid_argument("Can only get item pairs from a mapping.");
  for (const auto& [k, v] : input.as_dict().entries()) out.push_back(Value::tuple({k, v}));
  return make_generator("do_items", std::move(out));
}

Result<Value> filter_join(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("do_join", args,
                                                          {optional("d", Value::string("")),
                                                           optional("attribute", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  INFERD_ASSIGN_OR_RETURN(AttrGetter getter, AttrGetter::make(a[1]));
  INFERD_ASSIGN_OR_RETURN(std::string sep, to_str(a[0]));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    INFERD_ASSIGN_OR_RETURN(Value item, getter(ctx, items[i]));
    INFERD_ASSIGN_OR_RETURN(std::string text, to_str(item));
    if (i > 0) out += sep;
    out += text;
    INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(out.size()));
  return Value::string(std::move(out));
}

Result<Value> filter_map(Context& ctx, const Value& input, CallArgs& args) {
  std::vector<Value> out;
  if (!truthy(input)) return make_generator("sync_do_map", std::move(out));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  bool by_attribute = false;
  Value attribute, default_value = Value::none();
  if (args.positional.empty()) {
    for (const auto& [k, v] : args.keywords) {
      if (k == "attribute") {
        by_attribute = true;
        attribute = v;
      }
    }
  }
  if (by_attribute) {
    for (const auto& [k, v] : args.keywords) {
      if (k == "default") {
        default_value = v;
      } else if (k != "attribute") {
        return invalid_argument("Unexpected keyword argument '{}'", k);
      }
    }
    INFERD_ASSIGN_OR_RETURN(AttrGetter getter, AttrGetter::make(attribute, default_value));
    for (const Value& item : items) {
      INFERD_ASSIGN_OR_RETURN(Value v, getter(ctx, item));
      out.push_back(std::move(v));
    }
    return make_generator("sync_do_map", std::move(out));
  }
  if (args.positional.empty()) return invalid_argument("map requires a filter argument");
  if (!args.positional[0].is_string()) {
    return invalid_argument("filter name must be a string, not {}",
                            py_type_name(args.positional[0]));
  }
  const std::string name = args.positional[0].as_string();
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keywords = args.keywords;
  for (const Value& item : items) {
    CallArgs call_args = rest;
    INFERD_ASSIGN_OR_RETURN(Value v, ctx.call_filter(name, item, call_args));
    out.push_back(std::move(v));
  }
  return make_generator("sync_do_map", std::move(out));
}

Result<Value> filter_select(Context& ctx, const Value& input, CallArgs& args) {
  return select_or_reject(ctx, input, args, true, false, "select_or_reject");
}
Result<Value> filter_reject(Context& ctx, const Value& input, CallArgs& args) {
  return select_or_reject(ctx, input, args, false, false, "select_or_reject");
}
Result<Value> filter_selectattr(Context& ctx, const Value& input, CallArgs& args) {
  return select_or_reject(ctx, input, args, true, true, "select_or_reject");
}
Result<Value> filter_rejectattr(Context& ctx, const Value& input, CallArgs& args) {
  return select_or_reject(ctx, input, args, false, true, "select_or_reject");
}

Result<Value> filter_unique(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("sync_do_unique", args,
                                    {optional("case_sensitive", Value::boolean(false)),
                                     optional("attribute", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  INFERD_ASSIGN_OR_RETURN(AttrGetter getter, AttrGetter::make(a[1], Value(), !truthy(a[0])));
  std::vector<Value> seen, out;
  for (Value& item : items) {
    INFERD_ASSIGN_OR_RETURN(Value key, getter(ctx, item));
    if (key.is_list() || key.is_dict()) {
      return invalid_argument("unhashable type: '{}'", py_type_name(key));
    }
    bool found = false;
    for (const Value& s : seen) {
      if (py_equal(s, key)) {
        found = true;
        break;
      }
    }
    INFERD_RETURN_IF_ERROR(ctx.budget().charge(seen.size()));
    if (!found) {
      seen.push_back(std::move(key));
      out.push_back(std::move(item));
    }
  }
  return make_generator("sync_do_unique", std::move(out));
}

Result<Value> filter_reverse(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_reverse", args));
  if (input.is_string()) {
    const std::u32string u = unicode::to_u32(input.as_string());
    return Value::string(unicode::to_utf8(std::u32string(u.rbegin(), u.rend())), input.is_markup());
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  std::reverse(items.begin(), items.end());
  if (input.is_iterator() && input.as_iterator().single_pass())
    return Value::list(std::move(items));
  auto it = std::make_shared<IteratorData>();
  it->flavor = IteratorData::Flavor::kReverseIter;
  it->type_name = input.is_list()    ? "list_reverseiterator"
                  : input.is_dict()  ? "dict_reversekeyiterator"
                  : input.is_tuple() ? "reversed"
                                     : "reversed";
  it->items = std::move(items);
  return Value::iterator(std::move(it));
}

Result<Value> filter_sort(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_sort", args,
                                    {optional("reverse", Value::boolean(false)),
                                     optional("case_sensitive", Value::boolean(false)),
                                     optional("attribute", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  const bool lower = !truthy(a[1]);
  std::vector<AttrGetter> getters;
  if (a[2].is_string()) {
    const std::string& spec = a[2].as_string();
    size_t start = 0;
    while (true) {
      const size_t comma = spec.find(',', start);
      INFERD_ASSIGN_OR_RETURN(
          AttrGetter g, AttrGetter::make(Value::string(spec.substr(start, comma == std::string::npos
                                                                              ? std::string::npos
                                                                              : comma - start)),
                                         Value(), lower));
      getters.push_back(std::move(g));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else {
    INFERD_ASSIGN_OR_RETURN(AttrGetter g, AttrGetter::make(a[2], Value(), lower));
    getters.push_back(std::move(g));
  }
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) {
    std::vector<Value> key;
    for (const AttrGetter& g : getters) {
      INFERD_ASSIGN_OR_RETURN(Value k, g(ctx, item));
      key.push_back(std::move(k));
    }
    keys.push_back(Value::list(std::move(key)));
  }
  const size_t n = items.size();
  INFERD_RETURN_IF_ERROR(ctx.budget().charge(n * (1 + static_cast<size_t>(std::log2(n + 1)))));
  INFERD_RETURN_IF_ERROR(sort_by_keys(items, keys, truthy(a[0])));
  return Value::list(std::move(items));
}

Result<Value> filter_dictsort(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_dictsort", args,
                                    {optional("case_sensitive", Value::boolean(false)),
                                     optional("by", Value::string("key")),
                                     optional("reverse", Value::boolean(false))}));
  size_t pos;
  if (a[1].is_string() && a[1].as_string() == "key") {
    pos = 0;
  } else if (a[1].is_string() && a[1].as_string() == "value") {
    pos = 1;
  } else {
    return invalid_argument("You can only sort by either \"key\" or \"value\"");
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, mapping_items(input));
  std::vector<Value> keys;
  for (const Value& item : items) {
    Value k = item.items()[pos];
    if (!truthy(a[0]) && k.is_string()) k = Value::string(unicode::lower(k.as_string()));
    keys.push_back(std::move(k));
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge(items.size() * 8));
  INFERD_RETURN_IF_ERROR(sort_by_keys(items, keys, truthy(a[2])));
  return Value::list(std::move(items));
}

Result<Value> filter_max(Context& ctx, const Value& input, CallArgs& args) {
  return min_or_max(ctx, input, args, true);
}
Result<Value> filter_min(Context& ctx, const Value& input, CallArgs& args) {
  return min_or_max(ctx, input, args, false);
}

Result<Value> filter_sum(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("sync_do_sum", args,
                                                          {optional("attribute", Value::none()),
                                                           optional("start", Value::integer(0))}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  INFERD_ASSIGN_OR_RETURN(AttrGetter getter, AttrGetter::make(a[0]));
  Value total = a[1];
  for (const Value& item : items) {
    INFERD_ASSIGN_OR_RETURN(Value v, getter(ctx, item));
    INFERD_ASSIGN_OR_RETURN(total, py_binary(ctx.budget(), BinaryOp::kAdd, total, v));
  }
  return total;
}

Result<Value> filter_batch(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("do_batch", args, {required("linecount"), optional("fill_with", Value::none())}));
  if (!a[0].is_number()) {
    return invalid_argument("'<' not supported between instances of 'int' and '{}'",
                            py_type_name(a[0]));
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, iterate_charged(ctx, input));
  const double linecount = a[0].as_float();
  std::vector<Value> out, tmp;
  for (Value& item : items) {
    if (static_cast<double>(tmp.size()) == linecount) {
      out.push_back(Value::list(std::move(tmp)));
      tmp.clear();
    }
    tmp.push_back(std::move(item));
  }
  if (!tmp.empty()) {
    if (!a[1].is_none()) {
      const double missing = linecount - static_cast<double>(tmp.size());
      if (missing > 0) {
        INFERD_RETURN_IF_ERROR(
            ctx.budget().charge_items(tmp.size() + static_cast<size_t>(missing)));
        for (double i = 0; i < missing; ++i) tmp.push_back(a[1]);
      }
    }
    out.push_back(Value::list(std::move(tmp)));
  }
  return make_generator("do_batch", std::move(out));
}

Result<Value> filter_slice(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("sync_do_slice", args, {required("slices"), optional("fill_with", Value::none())}));
  if (!a[0].is_integral()) {
    return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(a[0]));
  }
  const int64_t slices = a[0].as_int();
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> seq, iterate_charged(ctx, input));
  if (slices == 0) return invalid_argument("integer division or modulo by zero");
  if (slices < 0 || slices > static_cast<int64_t>(ctx.limits().max_container_items)) {
    return invalid_argument("slice count {} is out of range", slices);
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_items(static_cast<size_t>(slices)));
  const int64_t length = static_cast<int64_t>(seq.size());
  const int64_t per_slice = length / slices;
  const int64_t with_extra = length % slices;
  int64_t offset = 0;
  std::vector<Value> out;
  for (int64_t s = 0; s < slices; ++s) {
    const int64_t start = offset + s * per_slice;
    if (s < with_extra) ++offset;
    const int64_t end = offset + (s + 1) * per_slice;
    std::vector<Value> tmp(seq.begin() + start, seq.begin() + end);
    if (!a[1].is_none() && s >= with_extra) tmp.push_back(a[1]);
    out.push_back(Value::list(std::move(tmp)));
  }
  return make_generator("sync_do_slice", std::move(out));
}

}  // namespace inferd::chat::jinja
