// String and number filters, and the filter table.
#include "chat/jinja/filters.h"

#include <cmath>
#include <cstdio>

#include "chat/jinja/args.h"
#include "chat/jinja/filter_support.h"
#include "chat/jinja/json_value.h"
#include "chat/jinja/py_format.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

// soft_str(input) as a string value plus its text.
Result<Value> soft(const Value& v) {
  return soft_str(v);
}

Result<Value> filter_abs(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("abs", args));
  return py_abs(input);
}

Result<Value> filter_attr(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("do_attr", args, {required("name")}));
  if (input.is_undefined()) return undefined_error(input);
  if (!a[0].is_string()) {
    return invalid_argument("attribute name must be string, not '{}'", py_type_name(a[0]));
  }
  const std::string& name = a[0].as_string();
  Value out;
  if (input.is_object()) {
    INFERD_ASSIGN_OR_RETURN(bool found, input.as_object().get_attr(ctx, name, out));
    if (found) return out;
  } else if (lookup_method(input, name, out)) {
    return out;
  }
  return Value::undefined(fmt::format("{} has no attribute {}",
                                      string_repr(object_type_repr(input)), string_repr(name)));
}

template <std::string (*F)(std::string_view)>
Result<Value> filter_case(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("case filter", args));
  INFERD_ASSIGN_OR_RETURN(Value s, soft(input));
  return Value::string(F(s.as_string()), s.is_markup());
}

Result<Value> filter_title(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_title", args));
  INFERD_ASSIGN_OR_RETURN(Value s, soft(input));
  // Words start after runs of [-\s({\[<]; each word: first character upper, the rest lower.
  const std::u32string u = unicode::to_u32(s.as_string());
  auto is_sep = [](char32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || unicode::is_space(c);
  };
  std::string out;
  size_t i = 0;
  while (i < u.size()) {
    size_t j = i;
    const bool sep = is_sep(u[i]);
    while (j < u.size() && is_sep(u[j]) == sep) ++j;
    const std::string piece = unicode::to_utf8(std::u32string_view(u).substr(i, j - i));
    if (sep) {
      out += piece;
    } else {
      std::string first;
      unicode::append_utf8(first, u[i]);
      out += unicode::upper(first);
      out += unicode::lower(unicode::to_utf8(std::u32string_view(u).substr(i + 1, j - i - 1)));
    }
    i = j;
  }
  return Value::string(std::move(out));
}

Result<Value> filter_center(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_center", args, {optional("width", Value::integer(80))}));
  INFERD_ASSIGN_OR_RETURN(Value s, soft(input));
  if (!a[0].is_integral()) {
    return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(a[0]));
  }
  const int64_t width = a[0].as_int();
  const int64_t len = static_cast<int64_t>(unicode::count_code_points(s.as_string()));
  if (width <= len) return s;
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(static_cast<size_t>(width)));
  const int64_t total = width - len;
  const int64_t left = total / 2 + (total & width & 1);
  std::string out(static_cast<size_t>(left), ' ');
  out += s.as_string();
  out.append(static_cast<size_t>(total - left), ' ');
  return Value::string(std::move(out), s.is_markup());
}

Result<Value> filter_default(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_default", args,
                                    {optional("default_value", Value::string("")),
                                     optional("boolean", Value::boolean(false))}));
  if (input.is_undefined() || (truthy(a[1]) && !truthy(input))) return a[0];
  return input;
}

Result<Value> filter_escape(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("escape", args));
  return escape_value(input);
}

Result<Value> filter_forceescape(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_forceescape", args));
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(input));
  return Value::string(html_escape(s), true);
}

Result<Value> filter_safe(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_mark_safe", args));
  if (input.is_markup()) return input;
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(input));
  return Value::string(std::move(s), true);
}

Result<Value> filter_string(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("soft_str", args));
  return soft(input);
}

Result<Value> filter_float(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_float", args, {optional("default", Value::number(0.0))}));
  if (input.is_undefined()) return undefined_error(input);
  if (input.is_number()) return Value::number(input.as_float());
  double d;
  if (input.is_string() && parse_py_float(input.as_string(), d)) return Value::number(d);
  return a[0];
}

Result<Value> filter_int(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("do_int", args,
                                                          {optional("default", Value::integer(0)),
                                                           optional("base", Value::integer(10))}));
  if (input.is_undefined()) return undefined_error(input);
  if (input.is_integral()) return Value::integer(input.as_int());
  if (input.is_float()) {
    const double d = input.as_float();
    if (std::isinf(d)) return out_of_range("cannot convert float infinity to integer");
    if (std::isnan(d)) return a[0];
    if (std::fabs(d) >= 9.2233720368547758e18) return out_of_range("integer out of range");
    return Value::integer(static_cast<int64_t>(d));
  }
  if (input.is_string()) {
    int64_t i;
    const int base = a[1].is_integral() ? static_cast<int>(a[1].as_int()) : 10;
    if (parse_py_int(input.as_string(), base, i)) return Value::integer(i);
    double d;
    if (parse_py_float(input.as_string(), d) && std::isfinite(d) &&
        std::fabs(d) < 9.2233720368547758e18) {
      return Value::integer(static_cast<int64_t>(d));
    }
  }
  return a[0];
}

Result<Value> filter_format(Context& ctx, const Value& input, CallArgs& args) {
  if (!args.positional.empty() && !args.keywords.empty()) {
    return invalid_argument("can't handle positional and keyword arguments at the same time");
  }
  INFERD_ASSIGN_OR_RETURN(Value fmt_value, soft(input));
  if (!args.keywords.empty()) {
    auto dict = std::make_shared<DictData>();
    for (const auto& [k, v] : args.keywords) INFERD_RETURN_IF_ERROR(dict->set(Value::string(k), v));
    return percent_format(ctx.budget(), fmt_value, Value::dict(std::move(dict)));
  }
  return percent_format(ctx.budget(), fmt_value, Value::tuple(args.positional));
}

Result<Value> filter_indent(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("do_indent", args,
                {optional("width", Value::integer(4)), optional("first", Value::boolean(false)),
                 optional("blank", Value::boolean(false))}));
  if (input.is_undefined()) return undefined_error(input);
  if (!input.is_string()) {
    return invalid_argument("unsupported operand type(s) for +=: '{}' and 'str'",
                            py_type_name(input));
  }
  std::string indention;
  if (a[0].is_string()) {
    indention = a[0].as_string();
  } else if (a[0].is_integral()) {
    const int64_t w = a[0].as_int();
    if (w > static_cast<int64_t>(ctx.limits().max_output_bytes)) {
      return ctx.budget().charge_string(ctx.limits().max_output_bytes + 1);
    }
    indention.assign(static_cast<size_t>(std::max<int64_t>(w, 0)), ' ');
  } else {
    return invalid_argument("can't multiply sequence by non-int of type '{}'", py_type_name(a[0]));
  }
  const bool markup = input.is_markup();
  if (markup && !a[0].is_markup()) indention = html_escape(indention);
  const std::vector<std::string> lines = unicode::splitlines(input.as_string() + "\n", false);
  std::string out;
  if (truthy(a[2])) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += "\n" + indention;
      out += lines[i];
      INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
    }
  } else {
    out = lines.empty() ? std::string() : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      out += "\n";
      if (!lines[i].empty()) out += indention;
      out += lines[i];
      INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
    }
  }
  if (truthy(a[1])) out = indention + out;
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(out.size()));
  return Value::string(std::move(out), markup);
}

Result<Value> filter_replace(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("do_replace", args,
                                                          {required("old"), required("new"),
                                                           optional("count", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(input));
  INFERD_ASSIGN_OR_RETURN(std::string old_text, to_str(a[0]));
  INFERD_ASSIGN_OR_RETURN(std::string new_text, to_str(a[1]));
  CallArgs method_args;
  method_args.positional = {Value::string(old_text), Value::string(new_text)};
  if (!a[2].is_none()) method_args.positional.push_back(a[2]);
  Value method;
  lookup_method(Value::string(std::move(s)), "replace", method);
  return ctx.call(method, method_args);
}

Result<Value> filter_round(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_round", args,
                                    {optional("precision", Value::integer(0)),
                                     optional("method", Value::string("common"))}));
  const std::string method = a[1].is_string() ? a[1].as_string() : std::string();
  if (method != "common" && method != "ceil" && method != "floor") {
    return invalid_argument("method must be common, ceil or floor");
  }
  if (!input.is_number()) {
    return invalid_argument("type {} doesn't define __round__ method", py_type_name(input));
  }
  if (!a[0].is_integral()) {
    return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(a[0]));
  }
  const int64_t precision = a[0].as_int();
  if (method == "common") {
    if (input.is_integral()) {
      if (precision >= 0) return Value::integer(input.as_int());
      // Round half to even at a power of ten.
      int64_t scale = 1;
      for (int64_t p = precision; p < 0 && scale < INT64_MAX / 10; ++p) scale *= 10;
      const int64_t v = input.as_int();
      int64_t q = v / scale, r = v % scale;
      if (r < 0) {
        r += scale;
        --q;
      }
      if (2 * r > scale || (2 * r == scale && (q & 1))) ++q;
      return Value::integer(q * scale);
    }
    const double x = input.as_float();
    if (!std::isfinite(x)) return Value::number(x);
    if (precision >= 0) {
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(std::min<int64_t>(precision, 300)),
                    x);
      return Value::number(std::strtod(buf, nullptr));
    }
    const double scale = std::pow(10.0, static_cast<double>(-precision));
    return Value::number(std::nearbyint(x / scale) * scale);
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = input.as_float() * scale;
  return Value::number((method == "ceil" ? std::ceil(x) : std::floor(x)) / scale);
}

Result<Value> filter_tojson(Context& ctx, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args(
          "tojson", args,
          {optional("ensure_ascii", Value::boolean(false)), optional("indent", Value::none()),
           optional("separators", Value::none()), optional("sort_keys", Value::boolean(false))}));
  JsonDumpOptions options;
  options.ensure_ascii = truthy(a[0]);
  options.sort_keys = truthy(a[3]);
  if (a[1].is_string()) {
    options.indent = a[1].as_string();
  } else if (a[1].is_integral()) {
    const int64_t n = a[1].as_int();
    if (n > 1000) return invalid_argument("tojson indent {} is too large", n);
    options.indent = std::string(static_cast<size_t>(std::max<int64_t>(n, 0)), ' ');
  } else if (!a[1].is_none()) {
    return invalid_argument("indent must be an int or a str, not {}", py_type_name(a[1]));
  }
  if (!a[2].is_none()) {
    if (!a[2].is_sequence() || a[2].items().size() != 2 || !a[2].items()[0].is_string() ||
        !a[2].items()[1].is_string()) {
      return invalid_argument("separators must be a pair of strings");
    }
    options.item_separator = a[2].items()[0].as_string();
    options.key_separator = a[2].items()[1].as_string();
  }
  INFERD_ASSIGN_OR_RETURN(std::string text,
                          json_dumps(input, options, ctx.limits().max_output_bytes));
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(text.size()));
  return Value::string(std::move(text));
}

Result<Value> filter_trim(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("do_trim", args, {optional("chars", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(Value s, soft(input));
  std::optional<std::string> chars;
  if (!a[0].is_none()) {
    if (!a[0].is_string()) {
      return invalid_argument("strip arg must be None or str");
    }
    chars = a[0].as_string();
  }
  return Value::string(unicode::strip(s.as_string(), chars, true, true), s.is_markup());
}

Result<Value> filter_truncate(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args(
          "do_truncate", args,
          {optional("length", Value::integer(255)), optional("killwords", Value::boolean(false)),
           optional("end", Value::string("...")), optional("leeway", Value::none())}));
  if (!input.is_string()) {
    return invalid_argument("object of type '{}' has no len()", py_type_name(input));
  }
  if (!a[0].is_integral() || !a[2].is_string())
    return invalid_argument("invalid truncate arguments");
  const int64_t length = a[0].as_int();
  const int64_t leeway = a[3].is_integral() ? a[3].as_int() : 5;
  const std::u32string end = unicode::to_u32(a[2].as_string());
  if (length < static_cast<int64_t>(end.size())) {
    return invalid_argument("expected length >= {}, got {}", end.size(), length);
  }
  if (leeway < 0) return invalid_argument("expected leeway >= 0, got {}", leeway);
  const std::u32string s = unicode::to_u32(input.as_string());
  if (static_cast<int64_t>(s.size()) <= length + leeway) return input;
  std::u32string head = s.substr(0, static_cast<size_t>(length - static_cast<int64_t>(end.size())));
  if (!truthy(a[1])) {
    const size_t space = head.rfind(U' ');
    if (space != std::u32string::npos) head = head.substr(0, space);
  }
  return Value::string(unicode::to_utf8(head + end));
}

Result<Value> filter_wordcount(Context&, const Value& input, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("do_wordcount", args));
  INFERD_ASSIGN_OR_RETURN(Value s, soft(input));
  int64_t words = 0;
  bool in_word = false;
  const std::string& text = s.as_string();
  size_t pos = 0;
  while (pos < text.size()) {
    const bool w = unicode::is_word(unicode::decode_next(text, pos));
    if (w && !in_word) ++words;
    in_word = w;
  }
  return Value::integer(words);
}

Result<Value> filter_filesizeformat(Context&, const Value& input, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("do_filesizeformat", args, {optional("binary", Value::boolean(false))}));
  double bytes;
  if (input.is_number()) {
    bytes = input.as_float();
  } else if (input.is_string() && parse_py_float(input.as_string(), bytes)) {
  } else {
    return invalid_argument("float() argument must be a string or a real number, not '{}'",
                            py_type_name(input));
  }
  const bool binary = truthy(a[0]);
  const double base = binary ? 1024 : 1000;
  static const char* const kDecimal[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* const kBinary[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes == 1) return Value::string("1 Byte");
  if (bytes < base) return Value::string(fmt::format("{} Bytes", static_cast<int64_t>(bytes)));
  double unit = base;
  for (int i = 0; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    if (bytes < unit || i == 7) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.1f %s", base * bytes / unit,
                    binary ? kBinary[i] : kDecimal[i]);
      return Value::string(buf);
    }
  }
  return Value::string("");
}

struct FilterEntry {
  std::string_view name;
  FilterFn fn;
};

constexpr FilterEntry kFilters[] = {
    {"abs", filter_abs},
    {"attr", filter_attr},
    {"batch", filter_batch},
    {"capitalize", filter_case<unicode::capitalize>},
    {"center", filter_center},
    {"count", filter_length},
    {"d", filter_default},
    {"default", filter_default},
    {"dictsort", filter_dictsort},
    {"e", filter_escape},
    {"escape", filter_escape},
    {"filesizeformat", filter_filesizeformat},
    {"first", filter_first},
    {"float", filter_float},
    {"forceescape", filter_forceescape},
    {"format", filter_format},
    {"indent", filter_indent},
    {"int", filter_int},
    {"items", filter_items},
    {"join", filter_join},
    {"last", filter_last},
    {"length", filter_length},
    {"list", filter_list},
    {"lower", filter_case<unicode::lower>},
    {"map", filter_map},
    {"max", filter_max},
    {"min", filter_min},
    {"reject", filter_reject},
    {"rejectattr", filter_rejectattr},
    {"replace", filter_replace},
    {"reverse", filter_reverse},
    {"round", filter_round},
    {"safe", filter_safe},
    {"select", filter_select},
    {"selectattr", filter_selectattr},
    {"slice", filter_slice},
    {"sort", filter_sort},
    {"string", filter_string},
    {"sum", filter_sum},
    {"title", filter_title},
    {"tojson", filter_tojson},
    {"trim", filter_trim},
    {"truncate", filter_truncate},
    {"unique", filter_unique},
    {"upper", filter_case<unicode::upper>},
    {"wordcount", filter_wordcount},
};

}  // namespace

const FilterFn* find_filter(std::string_view name) {
  for (const FilterEntry& f : kFilters) {
    if (f.name == name) return &f.fn;
  }
  return nullptr;
}

bool is_known_filter(std::string_view name) {
  return find_filter(name) != nullptr;
}

}  // namespace inferd::chat::jinja
