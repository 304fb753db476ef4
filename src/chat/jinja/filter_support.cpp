#include "chat/jinja/filter_support.h"

#include <cmath>
#include <cstdlib>

#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"

namespace inferd::chat::jinja {

Result<AttrGetter> AttrGetter::make(const Value& attribute, Value default_value,
                                    bool lower_strings) {
  AttrGetter g;
  g.default_ = std::move(default_value);
  g.lower_ = lower_strings;
  if (attribute.is_none() || attribute.is_undefined()) return g;
  if (attribute.is_string()) {
    const std::string& path = attribute.as_string();
    size_t start = 0;
    while (true) {
      const size_t dot = path.find('.', start);
      const std::string part =
          path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      int64_t index;
      const bool digits = unicode::str_all(part, unicode::is_digit) && unicode::is_ascii(part);
      if (digits && parse_py_int(part, 10, index)) {
        g.parts_.push_back(Value::integer(index));
      } else {
        g.parts_.push_back(Value::string(part));
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return g;
  }
  g.parts_.push_back(attribute);
  return g;
}

Result<Value> AttrGetter::operator()(Context& ctx, const Value& item) const {
  Value v = item;
  for (const Value& part : parts_) {
    INFERD_ASSIGN_OR_RETURN(v, ctx.getitem(v, part));
    if (!default_.is_undefined() && !default_.is_none() && v.is_undefined()) v = default_;
  }
  if (lower_ && v.is_string()) v = Value::string(unicode::lower(v.as_string()), v.is_markup());
  return v;
}

Status sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse) {
  const size_t n = items.size();
  std::vector<size_t> order(n), tmp(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  Status error;
  auto less = [&](size_t a, size_t b) -> bool {
    if (!error.ok()) return false;
    auto r = reverse ? py_less(keys[b], keys[a]) : py_less(keys[a], keys[b]);
    if (!r.ok()) {
      error = r.status();
      return false;
    }
    return *r;
  };
  // Bottom-up stable merge sort: never misbehaves when a comparison fails midway.
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n);
      const size_t hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = less(order[j], order[i]) ? order[j++] : order[i++];
      while (i < mid) tmp[k++] = order[i++];
      while (j < hi) tmp[k++] = order[j++];
    }
    order.swap(tmp);
    INFERD_RETURN_IF_ERROR(error);
  }
  std::vector<Value> sorted_items, sorted_keys;
  sorted_items.reserve(n);
  sorted_keys.reserve(n);
  for (size_t i : order) {
    sorted_items.push_back(std::move(items[i]));
    sorted_keys.push_back(std::move(keys[i]));
  }
  items = std::move(sorted_items);
  keys = std::move(sorted_keys);
  return Status::ok_status();
}

namespace {

std::string strip_ws(std::string_view s) {
  return unicode::strip(s, std::nullopt, true, true);
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

}  // namespace

bool parse_py_int(std::string_view input, int base, int64_t& out) {
  const std::string s = strip_ws(input);
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  auto has_prefix = [&](char p) {
    return i + 1 < s.size() && s[i] == '0' && (s[i + 1] | 0x20) == p;
  };
  if (base == 0) {
    if (has_prefix('x'))
      base = 16;
    else if (has_prefix('o'))
      base = 8;
    else if (has_prefix('b'))
      base = 2;
    else
      base = 10;
    if (base != 10) i += 2;
  } else if ((base == 16 && has_prefix('x')) || (base == 8 && has_prefix('o')) ||
             (base == 2 && has_prefix('b'))) {
    i += 2;
    if (i < s.size() && s[i] == '_') ++i;
  }
  if (base < 2 || base > 36) return false;
  if (i >= s.size()) return false;
  unsigned __int128 value = 0;
  bool prev_underscore = true;  // an underscore may not lead
  bool any = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '_') {
      if (prev_underscore) return false;
      prev_underscore = true;
      continue;
    }
    const int d = digit_value(s[i]);
    if (d >= base) return false;
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (value > static_cast<unsigned __int128>(INT64_MAX) + 1) return false;
    prev_underscore = false;
    any = true;
  }
  if (!any || prev_underscore) return false;
  if (!negative && value > static_cast<unsigned __int128>(INT64_MAX)) return false;
  out =
      negative ? static_cast<int64_t>(-static_cast<__int128>(value)) : static_cast<int64_t>(value);
  return true;
}

bool parse_py_float(std::string_view input, double& out) {
  std::string s = strip_ws(input);
  if (s.empty()) return false;
  std::string lower = unicode::lower(s);
  size_t sign = (lower[0] == '+' || lower[0] == '-') ? 1 : 0;
  const std::string body = lower.substr(sign);
  if (body == "inf" || body == "infinity" || body == "nan") {
    const double v = body == "nan" ? std::nan("") : INFINITY;
    out = lower[0] == '-' ? -v : v;
    return true;
  }
  // Digits with single underscores between them, an optional fraction and exponent.
  std::string cleaned;
  char prev = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      const char next = i + 1 < s.size() ? s[i + 1] : 0;
      if (!(prev >= '0' && prev <= '9') || !(next >= '0' && next <= '9')) return false;
    } else {
      if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
        return false;
      }
      cleaned.push_back(c);
    }
    prev = c;
  }
  if (cleaned.empty()) return false;
  char* end = nullptr;
  out = std::strtod(cleaned.c_str(), &end);
  return end == cleaned.c_str() + cleaned.size() &&
         cleaned.find_first_of("0123456789") != std::string::npos;
}

}  // namespace inferd::chat::jinja
