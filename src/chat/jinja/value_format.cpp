#include "chat/jinja/value_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "chat/jinja/unicode.h"

namespace inferd::chat::jinja {
namespace {

// Containers being printed, for Python's recursion marker ("{...}") and a depth bound.
thread_local std::vector<const void*> g_repr_stack;
constexpr size_t kMaxReprDepth = 400;

class ReprGuard {
 public:
  explicit ReprGuard(const void* id) { g_repr_stack.push_back(id); }
  ~ReprGuard() { g_repr_stack.pop_back(); }
  ReprGuard(const ReprGuard&) = delete;
  ReprGuard& operator=(const ReprGuard&) = delete;
};

bool in_repr(const void* id) {
  for (const void* p : g_repr_stack) {
    if (p == id) return true;
  }
  return false;
}

Status append_repr(std::string& out, const Value& v);

Status append_items(std::string& out, const std::vector<Value>& items) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    INFERD_RETURN_IF_ERROR(append_repr(out, items[i]));
  }
  return Status::ok_status();
}

Status append_repr(std::string& out, const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: out += "Undefined"; return Status::ok_status();
    case ValueKind::kNone: out += "None"; return Status::ok_status();
    case ValueKind::kBool: out += v.as_bool() ? "True" : "False"; return Status::ok_status();
    case ValueKind::kInt: out += std::to_string(v.as_int()); return Status::ok_status();
    case ValueKind::kFloat: out += float_repr(v.as_float()); return Status::ok_status();
    case ValueKind::kString:
      if (v.is_markup()) {
        out += "Markup(";
        out += string_repr(v.as_string());
        out += ")";
      } else {
        out += string_repr(v.as_string());
      }
      return Status::ok_status();
    default: break;
  }
  if (g_repr_stack.size() >= kMaxReprDepth) {
    return resource_exhausted("value nested too deeply to print");
  }
  switch (v.kind()) {
    case ValueKind::kList: {
      ReprGuard guard(v.identity());
      out += "[";
      INFERD_RETURN_IF_ERROR(append_items(out, v.items()));
      out += "]";
      return Status::ok_status();
    }
    case ValueKind::kTuple: {
      ReprGuard guard(v.identity());
      out += "(";
      INFERD_RETURN_IF_ERROR(append_items(out, v.items()));
      if (v.items().size() == 1) out += ",";
      out += ")";
      return Status::ok_status();
    }
    case ValueKind::kDict: {
      if (in_repr(v.identity())) {
        out += "{...}";
        return Status::ok_status();
      }
      ReprGuard guard(v.identity());
      out += "{";
      bool first = true;
      for (const auto& [key, value] : v.as_dict().entries()) {
        if (!first) out += ", ";
        first = false;
        INFERD_RETURN_IF_ERROR(append_repr(out, key));
        out += ": ";
        INFERD_RETURN_IF_ERROR(append_repr(out, value));
      }
      out += "}";
      return Status::ok_status();
    }
    case ValueKind::kIterator: {
      const IteratorData& it = v.as_iterator();
      ReprGuard guard(v.identity());
      switch (it.flavor) {
        case IteratorData::Flavor::kRange:
          out += fmt::format("range({}, {}", it.range_start, it.range_stop);
          if (it.range_step != 1) out += fmt::format(", {}", it.range_step);
          out += ")";
          return Status::ok_status();
        case IteratorData::Flavor::kDictView:
          out += it.type_name + "([";
          INFERD_RETURN_IF_ERROR(append_items(out, it.items));
          out += "])";
          return Status::ok_status();
        case IteratorData::Flavor::kGenerator:
          out += "<generator object " + it.producer + " at 0x7f0000000000>";
          return Status::ok_status();
        case IteratorData::Flavor::kReverseIter:
          out += "<" + it.type_name + " object at 0x7f0000000000>";
          return Status::ok_status();
      }
      return Status::ok_status();
    }
    case ValueKind::kObject: {
      ReprGuard guard(v.identity());
      INFERD_ASSIGN_OR_RETURN(std::string text, v.as_object().repr());
      out += text;
      return Status::ok_status();
    }
    default: return Status::ok_status();
  }
}

void append_hex_escape(std::string& out, char prefix, char32_t c, int digits) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\%c%0*x", prefix, digits, static_cast<unsigned>(c));
  out += buf;
}

}  // namespace

std::string float_repr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f < 0 ? "-inf" : "inf";
  if (f == 0.0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci: [-]d[.ddd]e[+-]XX
  bool negative = false;
  size_t pos = 0;
  if (sci[0] == '-') {
    negative = true;
    pos = 1;
  }
  const size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = pos; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  const int exp10 = std::atoi(sci.c_str() + e_pos + 1);
  std::string out = negative ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    out += ebuf;
    return out;
  }
  if (exp10 < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exp10 - 1), '0');
    out += digits;
    return out;
  }
  const size_t int_digits = static_cast<size_t>(exp10) + 1;
  if (digits.size() <= int_digits) {
    out += digits;
    out.append(int_digits - digits.size(), '0');
    out += ".0";
  } else {
    out.append(digits, 0, int_digits);
    out += '.';
    out.append(digits, int_digits, std::string::npos);
  }
  return out;
}

std::string string_repr(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = unicode::decode_next(s, pos);
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      append_hex_escape(out, 'x', c, 2);
    } else if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else if (unicode::is_printable(c)) {
      unicode::append_utf8(out, c);
    } else if (c <= 0xFF) {
      append_hex_escape(out, 'x', c, 2);
    } else if (c <= 0xFFFF) {
      append_hex_escape(out, 'u', c, 4);
    } else {
      append_hex_escape(out, 'U', c, 8);
    }
  }
  out.push_back(quote);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\'': out += "&#39;"; break;
      case '"': out += "&#34;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Result<std::string> to_str(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kUndefined: return std::string();
    case ValueKind::kString: return v.as_string();
    case ValueKind::kObject:
    case ValueKind::kIterator:
    case ValueKind::kList:
    case ValueKind::kTuple:
    case ValueKind::kDict:
    case ValueKind::kNone:
    case ValueKind::kBool:
    case ValueKind::kInt:
    case ValueKind::kFloat: return repr(v);
  }
  return std::string();
}

Result<std::string> repr(const Value& v) {
  std::string out;
  INFERD_RETURN_IF_ERROR(append_repr(out, v));
  return out;
}

Result<Value> soft_str(const Value& v) {
  if (v.is_string()) return v;
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(v));
  return Value::string(std::move(s));
}

Result<Value> escape_value(const Value& v) {
  if (v.is_markup()) return v;
  INFERD_ASSIGN_OR_RETURN(std::string s, to_str(v));
  return Value::string(html_escape(s), true);
}

}  // namespace inferd::chat::jinja
