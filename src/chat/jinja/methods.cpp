// Python methods of str, list, tuple and dict values, as templates call them
// (message.content.strip(), tools.items(), ...). Markup receivers return Markup and escape
// string arguments, like markupsafe.
#include <algorithm>
#include <string_view>

#include "chat/jinja/args.h"
#include "chat/jinja/context.h"
#include "chat/jinja/py_format.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

using MethodFn = Result<Value> (*)(Context&, const Value& self, CallArgs& args);

struct MethodEntry {
  std::string_view name;
  MethodFn fn;
};

// ---- helpers ----------------------------------------------------------------------------------

Result<std::string> str_arg(std::string_view method, const Value& v) {
  if (!v.is_string()) {
    return invalid_argument("{}() argument must be str, not {}", method, py_type_name(v));
  }
  return v.as_string();
}

Result<std::optional<std::string>> chars_arg(std::string_view method, const Value& v) {
  if (v.is_none()) return std::optional<std::string>();
  INFERD_ASSIGN_OR_RETURN(std::string s, str_arg(method, v));
  return std::optional<std::string>(std::move(s));
}

Result<int64_t> int_arg(std::string_view method, const Value& v) {
  if (!v.is_integral()) {
    return invalid_argument("'{}' object cannot be interpreted as an integer", py_type_name(v));
  }
  return v.as_int();
}

Value result_string(const Value& self, std::string s) {
  return Value::string(std::move(s), self.is_markup());
}

// The text of a string argument as a Markup receiver sees it (escaped unless Markup itself).
std::string arg_text(const Value& self, const Value& arg) {
  if (self.is_markup() && !arg.is_markup()) return html_escape(arg.as_string());
  return arg.as_string();
}

// Code points of `s` in [start, end) per Python slice rules, as a byte range.
struct ByteRange {
  size_t begin, end;
  size_t cp_begin;  // code point index of `begin`
};

Result<ByteRange> sub_range(const std::string& s, const Value& start, const Value& end) {
  const std::u32string u = unicode::to_u32(s);
  const int64_t n = static_cast<int64_t>(u.size());
  auto adjust = [n](const Value& v, int64_t dflt) -> Result<int64_t> {
    if (v.is_none()) return dflt;
    if (!v.is_integral()) {
      return invalid_argument("slice indices must be integers or None or have an __index__ method");
    }
    int64_t i = v.as_int();
    if (i < 0) i = std::max<int64_t>(0, i + n);
    return std::min(i, n);
  };
  INFERD_ASSIGN_OR_RETURN(int64_t b, adjust(start, 0));
  INFERD_ASSIGN_OR_RETURN(int64_t e, adjust(end, n));
  size_t byte = 0, bb = 0, be = 0;
  for (int64_t i = 0; i <= n; ++i) {
    if (i == b) bb = byte;
    if (i == e) be = byte;
    if (i < n) {
      std::string tmp;
      unicode::append_utf8(tmp, u[static_cast<size_t>(i)]);
      byte += tmp.size();
    }
  }
  if (e < b) be = bb;
  return ByteRange{bb, be, static_cast<size_t>(b)};
}

size_t cp_index(const std::string& s, size_t byte_offset) {
  return unicode::count_code_points(std::string_view(s).substr(0, byte_offset));
}

// ---- str ----------------------------------------------------------------------------------------

Result<Value> str_strip_impl(const Value& self, CallArgs& args, const char* name, bool l, bool r) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args(name, args, {optional("chars", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(auto chars, chars_arg(name, a[0]));
  return result_string(self, unicode::strip(self.as_string(), chars, l, r));
}
Result<Value> str_strip(Context&, const Value& self, CallArgs& args) {
  return str_strip_impl(self, args, "strip", true, true);
}
Result<Value> str_lstrip(Context&, const Value& self, CallArgs& args) {
  return str_strip_impl(self, args, "lstrip", true, false);
}
Result<Value> str_rstrip(Context&, const Value& self, CallArgs& args) {
  return str_strip_impl(self, args, "rstrip", false, true);
}

template <std::string (*F)(std::string_view)>
Result<Value> str_transform(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("str method", args));
  return result_string(self, F(self.as_string()));
}

template <bool (*F)(std::string_view)>
Result<Value> str_predicate(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("str method", args));
  return Value::boolean(F(self.as_string()));
}

template <bool (*P)(char32_t)>
bool all_of_str(std::string_view s) {
  return unicode::str_all(s, P);
}
bool isascii_str(std::string_view s) {
  return unicode::is_ascii(s);
}

Result<Value> str_split_impl(const Value& self, CallArgs& args, bool from_right) {
  const char* name = from_right ? "rsplit" : "split";
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args(name, args,
                {optional("sep", Value::none()), optional("maxsplit", Value::integer(-1))}));
  INFERD_ASSIGN_OR_RETURN(int64_t maxsplit, int_arg(name, a[1]));
  const std::string& s = self.as_string();
  std::vector<std::string> parts;
  if (a[0].is_none()) {
    parts = from_right ? unicode::rsplit_whitespace(s, maxsplit)
                       : unicode::split_whitespace(s, maxsplit);
  } else {
    INFERD_ASSIGN_OR_RETURN(std::string sep, str_arg(name, a[0]));
    if (sep.empty()) return invalid_argument("empty separator");
    if (!from_right) {
      size_t pos = 0;
      while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
        const size_t found = s.find(sep, pos);
        if (found == std::string::npos) break;
        parts.push_back(s.substr(pos, found - pos));
        pos = found + sep.size();
      }
      parts.push_back(s.substr(pos));
    } else {
      size_t end = s.size();
      std::vector<std::string> rev;
      while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
        if (end < sep.size()) break;
        const size_t found = s.rfind(sep, end - sep.size());
        if (found == std::string::npos) break;
        rev.push_back(s.substr(found + sep.size(), end - found - sep.size()));
        end = found;
      }
      rev.push_back(s.substr(0, end));
      parts.assign(rev.rbegin(), rev.rend());
    }
  }
  std::vector<Value> out;
  out.reserve(parts.size());
  for (auto& p : parts) out.push_back(result_string(self, std::move(p)));
  return Value::list(std::move(out));
}
Result<Value> str_split(Context&, const Value& self, CallArgs& args) {
  return str_split_impl(self, args, false);
}
Result<Value> str_rsplit(Context&, const Value& self, CallArgs& args) {
  return str_split_impl(self, args, true);
}

Result<Value> str_splitlines(Context&, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args("splitlines", args, {optional("keepends", Value::boolean(false))}));
  std::vector<Value> out;
  for (auto& line : unicode::splitlines(self.as_string(), truthy(a[0]))) {
    out.push_back(result_string(self, std::move(line)));
  }
  return Value::list(std::move(out));
}

Result<Value> str_affix_impl(const Value& self, CallArgs& args, const char* name, bool prefix) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args(name, args,
                                    {required("affix"), optional("start", Value::none()),
                                     optional("end", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(ByteRange range, sub_range(self.as_string(), a[1], a[2]));
  const std::string_view sub =
      std::string_view(self.as_string()).substr(range.begin, range.end - range.begin);
  std::vector<Value> candidates;
  if (a[0].is_tuple()) {
    candidates = a[0].items();
  } else if (a[0].is_string()) {
    candidates.push_back(a[0]);
  } else {
    return invalid_argument("{} first arg must be str or a tuple of str, not {}", name,
                            py_type_name(a[0]));
  }
  for (const Value& c : candidates) {
    if (!c.is_string()) {
      return invalid_argument("tuple for {} must only contain str, not {}", name, py_type_name(c));
    }
    const std::string& t = c.as_string();
    if (t.size() > sub.size()) continue;
    if (prefix ? sub.substr(0, t.size()) == t : sub.substr(sub.size() - t.size()) == t) {
      return Value::boolean(true);
    }
  }
  return Value::boolean(false);
}
Result<Value> str_startswith(Context&, const Value& self, CallArgs& args) {
  return str_affix_impl(self, args, "startswith", true);
}
Result<Value> str_endswith(Context&, const Value& self, CallArgs& args) {
  return str_affix_impl(self, args, "endswith", false);
}

// find/rfind/index/rindex/count over s[start:end].
Result<Value> str_search_impl(const Value& self, CallArgs& args, const char* name, bool reverse,
                              bool raise, bool count) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args(name, args,
                                    {required("sub"), optional("start", Value::none()),
                                     optional("end", Value::none())}));
  INFERD_ASSIGN_OR_RETURN(std::string sub, str_arg(name, a[0]));
  const std::string& s = self.as_string();
  INFERD_ASSIGN_OR_RETURN(ByteRange range, sub_range(s, a[1], a[2]));
  const std::string_view hay = std::string_view(s).substr(range.begin, range.end - range.begin);
  if (count) {
    if (sub.empty())
      return Value::integer(static_cast<int64_t>(unicode::count_code_points(hay) + 1));
    int64_t n = 0;
    size_t pos = 0;
    while ((pos = hay.find(sub, pos)) != std::string_view::npos) {
      ++n;
      pos += sub.size();
    }
    return Value::integer(n);
  }
  const size_t found = reverse ? hay.rfind(sub) : hay.find(sub);
  if (found == std::string_view::npos) {
    if (raise) return invalid_argument("substring not found");
    return Value::integer(-1);
  }
  return Value::integer(static_cast<int64_t>(cp_index(s, range.begin + found)));
}
Result<Value> str_find(Context&, const Value& self, CallArgs& args) {
  return str_search_impl(self, args, "find", false, false, false);
}
Result<Value> str_rfind(Context&, const Value& self, CallArgs& args) {
  return str_search_impl(self, args, "rfind", true, false, false);
}
Result<Value> str_index(Context&, const Value& self, CallArgs& args) {
  return str_search_impl(self, args, "index", false, true, false);
}
Result<Value> str_rindex(Context&, const Value& self, CallArgs& args) {
  return str_search_impl(self, args, "rindex", true, true, false);
}
Result<Value> str_count(Context&, const Value& self, CallArgs& args) {
  return str_search_impl(self, args, "count", false, false, true);
}

Result<Value> str_replace(Context& ctx, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("replace", args,
                                                          {required("old"), required("new"),
                                                           optional("count", Value::integer(-1))}));
  INFERD_RETURN_IF_ERROR(str_arg("replace", a[0]).status());
  INFERD_RETURN_IF_ERROR(str_arg("replace", a[1]).status());
  INFERD_ASSIGN_OR_RETURN(int64_t count, int_arg("replace", a[2]));
  const std::string old_text = arg_text(self, a[0]);
  const std::string new_text = arg_text(self, a[1]);
  const std::string& s = self.as_string();
  std::string out;
  if (old_text.empty()) {
    // Python inserts `new` between code points (and at both ends).
    size_t pos = 0;
    int64_t n = 0;
    while (true) {
      if (count >= 0 && n >= count) {
        out.append(s, pos, std::string::npos);
        break;
      }
      out += new_text;
      ++n;
      if (pos >= s.size()) break;
      const size_t start = pos;
      unicode::decode_next(s, pos);
      out.append(s, start, pos - start);
      INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
    }
  } else {
    size_t pos = 0;
    int64_t n = 0;
    while (count < 0 || n < count) {
      const size_t found = s.find(old_text, pos);
      if (found == std::string::npos) break;
      out.append(s, pos, found - pos);
      out += new_text;
      pos = found + old_text.size();
      ++n;
      INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
    }
    out.append(s, pos, std::string::npos);
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(out.size()));
  return result_string(self, std::move(out));
}

Result<Value> str_join(Context& ctx, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("join", args, {required("iterable")}));
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> items, py_iterate(a[0]));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_string()) {
      return invalid_argument("sequence item {}: expected str instance, {} found", i,
                              py_type_name(items[i]));
    }
    if (i > 0) out += self.as_string();
    out += arg_text(self, items[i]);
    INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size()));
  }
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(out.size()));
  return result_string(self, std::move(out));
}

Result<Value> str_justify_impl(Context& ctx, const Value& self, CallArgs& args, const char* name,
                               char mode) {
  INFERD_ASSIGN_OR_RETURN(
      std::vector<Value> a,
      bind_args(name, args, {required("width"), optional("fillchar", Value::string(" "))}));
  INFERD_ASSIGN_OR_RETURN(int64_t width, int_arg(name, a[0]));
  if (!a[1].is_string() || unicode::count_code_points(a[1].as_string()) != 1) {
    return invalid_argument("The fill character must be exactly one character long");
  }
  const std::string& s = self.as_string();
  const int64_t len = static_cast<int64_t>(unicode::count_code_points(s));
  if (width <= len) return self;
  INFERD_RETURN_IF_ERROR(
      ctx.budget().charge_string(static_cast<size_t>(width) * a[1].as_string().size()));
  const int64_t total = width - len;
  int64_t left = 0;
  if (mode == 'r') left = total;
  if (mode == 'c') left = total / 2 + (total & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += a[1].as_string();
  out += s;
  for (int64_t i = left; i < total; ++i) out += a[1].as_string();
  return result_string(self, std::move(out));
}
Result<Value> str_ljust(Context& ctx, const Value& self, CallArgs& args) {
  return str_justify_impl(ctx, self, args, "ljust", 'l');
}
Result<Value> str_rjust(Context& ctx, const Value& self, CallArgs& args) {
  return str_justify_impl(ctx, self, args, "rjust", 'r');
}
Result<Value> str_center(Context& ctx, const Value& self, CallArgs& args) {
  return str_justify_impl(ctx, self, args, "center", 'c');
}

Result<Value> str_zfill(Context& ctx, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("zfill", args, {required("width")}));
  INFERD_ASSIGN_OR_RETURN(int64_t width, int_arg("zfill", a[0]));
  const std::string& s = self.as_string();
  const int64_t len = static_cast<int64_t>(unicode::count_code_points(s));
  if (width <= len) return self;
  INFERD_RETURN_IF_ERROR(ctx.budget().charge_string(static_cast<size_t>(width)));
  const size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  std::string out =
      s.substr(0, sign) + std::string(static_cast<size_t>(width - len), '0') + s.substr(sign);
  return result_string(self, std::move(out));
}

Result<Value> str_partition_impl(const Value& self, CallArgs& args, bool reverse) {
  const char* name = reverse ? "rpartition" : "partition";
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args(name, args, {required("sep")}));
  INFERD_ASSIGN_OR_RETURN(std::string sep, str_arg(name, a[0]));
  if (sep.empty()) return invalid_argument("empty separator");
  const std::string& s = self.as_string();
  const size_t found = reverse ? s.rfind(sep) : s.find(sep);
  std::vector<Value> out;
  if (found == std::string::npos) {
    if (reverse) {
      out = {result_string(self, ""), result_string(self, ""), self};
    } else {
      out = {self, result_string(self, ""), result_string(self, "")};
    }
  } else {
    out = {result_string(self, s.substr(0, found)), result_string(self, sep),
           result_string(self, s.substr(found + sep.size()))};
  }
  return Value::tuple(std::move(out));
}
Result<Value> str_partition(Context&, const Value& self, CallArgs& args) {
  return str_partition_impl(self, args, false);
}
Result<Value> str_rpartition(Context&, const Value& self, CallArgs& args) {
  return str_partition_impl(self, args, true);
}

Result<Value> str_removeprefix(Context&, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("removeprefix", args, {required("prefix")}));
  INFERD_ASSIGN_OR_RETURN(std::string p, str_arg("removeprefix", a[0]));
  const std::string& s = self.as_string();
  if (s.compare(0, p.size(), p) == 0 && s.size() >= p.size())
    return result_string(self, s.substr(p.size()));
  return self;
}

Result<Value> str_removesuffix(Context&, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("removesuffix", args, {required("suffix")}));
  INFERD_ASSIGN_OR_RETURN(std::string p, str_arg("removesuffix", a[0]));
  const std::string& s = self.as_string();
  if (!p.empty() && s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0) {
    return result_string(self, s.substr(0, s.size() - p.size()));
  }
  return self;
}

Result<Value> str_format_method(Context& ctx, const Value& self, CallArgs& args) {
  return str_format(
      ctx.budget(), self, args,
      [&ctx](const Value& obj, bool is_attr, const std::string& key) -> Result<Value> {
        if (is_attr) return ctx.getattr(obj, key);
        const bool numeric = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
          return c >= '0' && c <= '9';
        });
        if (numeric && key.size() < 18) return ctx.getitem(obj, Value::integer(std::stoll(key)));
        return ctx.getitem(obj, Value::string(key));
      });
}

Result<Value> str_format_map(Context& ctx, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("format_map", args, {required("mapping")}));
  if (!a[0].is_dict()) return invalid_argument("format_map() argument must be a mapping");
  CallArgs kw;
  for (const auto& [k, v] : a[0].as_dict().entries()) {
    if (k.is_string()) kw.keywords.emplace_back(k.as_string(), v);
  }
  return str_format_method(ctx, self, kw);
}

Result<Value> str_expandtabs(Context& ctx, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("expandtabs", args, {optional("tabsize", Value::integer(8))}));
  INFERD_ASSIGN_OR_RETURN(int64_t tab, int_arg("expandtabs", a[0]));
  const std::u32string u = unicode::to_u32(self.as_string());
  std::u32string out;
  int64_t col = 0;
  for (char32_t c : u) {
    if (c == '\t') {
      if (tab > 0) {
        const int64_t n = tab - col % tab;
        INFERD_RETURN_IF_ERROR(ctx.budget().check_string(out.size() + static_cast<size_t>(n)));
        out.append(static_cast<size_t>(n), U' ');
        col += n;
      }
    } else {
      out.push_back(c);
      col = (c == '\n' || c == '\r') ? 0 : col + 1;
    }
  }
  return result_string(self, unicode::to_utf8(out));
}

constexpr MethodEntry kStrMethods[] = {
    {"strip", str_strip},
    {"lstrip", str_lstrip},
    {"rstrip", str_rstrip},
    {"split", str_split},
    {"rsplit", str_rsplit},
    {"splitlines", str_splitlines},
    {"startswith", str_startswith},
    {"endswith", str_endswith},
    {"find", str_find},
    {"rfind", str_rfind},
    {"index", str_index},
    {"rindex", str_rindex},
    {"count", str_count},
    {"replace", str_replace},
    {"join", str_join},
    {"upper", str_transform<unicode::upper>},
    {"lower", str_transform<unicode::lower>},
    {"casefold", str_transform<unicode::lower>},
    {"title", str_transform<unicode::title>},
    {"capitalize", str_transform<unicode::capitalize>},
    {"swapcase", str_transform<unicode::swapcase>},
    {"islower", str_predicate<unicode::str_islower>},
    {"isupper", str_predicate<unicode::str_isupper>},
    {"istitle", str_predicate<unicode::str_istitle>},
    {"isspace", str_predicate<all_of_str<unicode::is_space>>},
    {"isalpha", str_predicate<all_of_str<unicode::is_alpha>>},
    {"isalnum", str_predicate<all_of_str<unicode::is_alnum>>},
    {"isdigit", str_predicate<all_of_str<unicode::is_digit>>},
    {"isdecimal", str_predicate<all_of_str<unicode::is_decimal>>},
    {"isnumeric", str_predicate<all_of_str<unicode::is_numeric>>},
    {"isprintable", str_predicate<all_of_str<unicode::is_printable>>},
    {"isascii", str_predicate<isascii_str>},
    {"ljust", str_ljust},
    {"rjust", str_rjust},
    {"center", str_center},
    {"zfill", str_zfill},
    {"partition", str_partition},
    {"rpartition", str_rpartition},
    {"removeprefix", str_removeprefix},
    {"removesuffix", str_removesuffix},
    {"format", str_format_method},
    {"format_map", str_format_map},
    {"expandtabs", str_expandtabs},
};

// ---- list / tuple
// ---------------------------------------------------------------------------------

Result<Value> seq_index(Context&, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a,
                          bind_args("index", args,
                                    {required("value"), optional("start", Value::integer(0)),
                                     optional("stop", Value::integer(INT64_MAX))}));
  const auto& items = self.items();
  const int64_t n = static_cast<int64_t>(items.size());
  INFERD_ASSIGN_OR_RETURN(int64_t start, int_arg("index", a[1]));
  INFERD_ASSIGN_OR_RETURN(int64_t stop, int_arg("index", a[2]));
  if (start < 0) start = std::max<int64_t>(0, start + n);
  if (stop < 0) stop = std::max<int64_t>(0, stop + n);
  for (int64_t i = start; i < std::min(stop, n); ++i) {
    if (py_equal(items[static_cast<size_t>(i)], a[0])) return Value::integer(i);
  }
  return invalid_argument("{}.index(x): x not in {}", self.is_list() ? "list" : "tuple",
                          self.is_list() ? "list" : "tuple");
}

Result<Value> seq_count(Context&, const Value& self, CallArgs& args) {
  INFERD_ASSIGN_OR_RETURN(std::vector<Value> a, bind_args("count", args, {required("value")}));
  int64_t n = 0;
  for (const Value& v : self.items()) n += py_equal(v, a[0]) ? 1 : 0;
  return Value::integer(n);
}

Result<Value> list_copy(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("copy", args));
  return Value::list(self.items());
}

constexpr MethodEntry kListMethods[] = {
    {"index", seq_index},
    {"count", seq_count},
    {"copy", list_copy},
};
constexpr MethodEntry kTupleMethods[] = {
    {"index", seq_index},
    {"count", seq_count},
};
constexpr std::string_view kListMutators[] = {"append", "clear",  "extend",  "insert",
                                              "pop",    "remove", "reverse", "sort"};

// ---- dict
// ----------------------------------------------------------------------------------------

Value dict_view(const Value& self, const char* type_name, int part) {
  auto it = std::make_shared<IteratorData>();
  it->flavor = IteratorData::Flavor::kDictView;
  it->type_name = type_name;
  for (const auto& [k, v] : self.as_dict().entries()) {
    if (part == 0) it->items.push_back(k);
    if (part == 1) it->items.push_back(v);
    if (part == 2) it->items.push_back(Value::tuple({k, v}));
  }
  return Value::iterator(std::move(it));
}

Result<Value> dict_items(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("items", args));
  return dict_view(self, "dict_items", 2);
}
Result<Value> dict_keys(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("keys", args));
  return dict_view(self, "dict_keys", 0);
}
Result<Value> dict_values(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("values", args));
  return dict_view(self, "dict_values", 1);
}
Result<Value> dict_get(Context&, const Value& self, CallArgs& args) {
  if (!args.keywords.empty()) return invalid_argument("get() takes no keyword arguments");
  if (args.positional.empty() || args.positional.size() > 2) {
    return invalid_argument("get expected at least 1 argument, got {}", args.positional.size());
  }
  const Value& key = args.positional[0];
  if (key.is_list() || key.is_dict()) {
    return invalid_argument("unhashable type: '{}'", py_type_name(key));
  }
  if (const Value* v = self.as_dict().find(key)) return *v;
  return args.positional.size() == 2 ? args.positional[1] : Value::none();
}
Result<Value> dict_copy(Context&, const Value& self, CallArgs& args) {
  INFERD_RETURN_IF_ERROR(expect_no_args("copy", args));
  return Value::dict(std::make_shared<DictData>(self.as_dict()));
}

constexpr MethodEntry kDictMethods[] = {
    {"items", dict_items}, {"keys", dict_keys}, {"values", dict_values},
    {"get", dict_get},     {"copy", dict_copy},
};
constexpr std::string_view kDictMutators[] = {"clear", "pop", "popitem", "setdefault", "update"};

template <size_t N>
bool find_in(const MethodEntry (&table)[N], const Value& receiver, std::string_view name,
             Value& out) {
  for (const MethodEntry& m : table) {
    if (m.name != name) continue;
    const MethodFn fn = m.fn;
    out = Value::object(std::make_shared<NativeFunction>(
        std::string(name),
        [receiver, fn](Context& ctx, CallArgs& args) { return fn(ctx, receiver, args); }));
    return true;
  }
  return false;
}

template <size_t N>
bool unsafe_in(const std::string_view (&names)[N], const Value& receiver, std::string_view name,
               Value& out) {
  for (std::string_view n : names) {
    if (n != name) continue;
    out = Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name,
                                       py_type_name(receiver)),
                           /*security_error=*/true);
    return true;
  }
  return false;
}

}  // namespace

bool lookup_method(const Value& receiver, std::string_view name, Value& out) {
  switch (receiver.kind()) {
    case ValueKind::kString: return find_in(kStrMethods, receiver, name, out);
    case ValueKind::kList:
      return find_in(kListMethods, receiver, name, out) ||
             unsafe_in(kListMutators, receiver, name, out);
    case ValueKind::kTuple: return find_in(kTupleMethods, receiver, name, out);
    case ValueKind::kDict:
      return find_in(kDictMethods, receiver, name, out) ||
             unsafe_in(kDictMutators, receiver, name, out);
    default: return false;
  }
}

}  // namespace inferd::chat::jinja
