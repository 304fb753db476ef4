#include "chat/jinja/py_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

// repr() with every non-ASCII character escaped (Python's ascii()).
Result<std::string> ascii_repr(const Value& v) {
  INFERD_ASSIGN_OR_RETURN(std::string r, repr(v));
  std::string out;
  size_t pos = 0;
  while (pos < r.size()) {
    const char32_t c = unicode::decode_next(r, pos);
    char buf[16];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c <= 0xFF) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned>(c));
      out += buf;
    } else if (c <= 0xFFFF) {
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      std::snprintf(buf, sizeof(buf), "\\U%08x", static_cast<unsigned>(c));
      out += buf;
    }
  }
  return out;
}

// Pads `s` to `width` code points: left-justified when `left`, else right-justified.
std::string pad(std::string s, int64_t width, bool left, char32_t fill = ' ') {
  const int64_t len = static_cast<int64_t>(unicode::count_code_points(s));
  if (width <= len) return s;
  std::string fill_text;
  for (int64_t i = len; i < width; ++i) unicode::append_utf8(fill_text, fill);
  return left ? s + fill_text : fill_text + s;
}

std::string truncate_code_points(const std::string& s, int64_t n) {
  size_t pos = 0;
  int64_t count = 0;
  while (pos < s.size() && count < n) {
    unicode::decode_next(s, pos);
    ++count;
  }
  return s.substr(0, pos);
}

std::string to_base(uint64_t v, int base, bool upper_case) {
  if (v == 0) return "0";
  const char* digits = upper_case ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  while (v > 0) {
    out.insert(out.begin(), digits[v % static_cast<uint64_t>(base)]);
    v /= static_cast<uint64_t>(base);
  }
  return out;
}

uint64_t magnitude(int64_t v) {
  return v < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
}

struct PercentSpec {
  bool left = false, plus = false, space = false, alt = false, zero = false;
  int64_t width = -1;
  int64_t precision = -1;
};

std::string printf_float(const PercentSpec& spec, char type, double value) {
  std::string f = "%";
  if (spec.left) f += '-';
  if (spec.plus) f += '+';
  if (spec.space) f += ' ';
  if (spec.alt) f += '#';
  if (spec.zero) f += '0';
  if (spec.width >= 0) f += std::to_string(std::min<int64_t>(spec.width, 100000));
  f += '.';
  f += std::to_string(spec.precision >= 0 ? std::min<int64_t>(spec.precision, 1000) : 6);
  f += type;
  const int n = std::snprintf(nullptr, 0, f.c_str(), value);
  std::string out(static_cast<size_t>(n), '\0');
  std::snprintf(out.data(), out.size() + 1, f.c_str(), value);
  return out;
}

std::string printf_int(const PercentSpec& spec, char type, int64_t value) {
  const int base = (type == 'o') ? 8 : (type == 'x' || type == 'X') ? 16 : 10;
  std::string digits = to_base(magnitude(value), base, type == 'X');
  if (spec.precision > static_cast<int64_t>(digits.size())) {
    digits.insert(0, static_cast<size_t>(spec.precision) - digits.size(), '0');
  }
  std::string prefix;
  if (value < 0) {
    prefix = "-";
  } else if (spec.plus) {
    prefix = "+";
  } else if (spec.space) {
    prefix = " ";
  }
  if (spec.alt) {
    if (type == 'o') prefix += "0o";
    if (type == 'x') prefix += "0x";
    if (type == 'X') prefix += "0X";
  }
  const int64_t len = static_cast<int64_t>(prefix.size() + digits.size());
  if (spec.zero && !spec.left && spec.width > len) {
    digits.insert(0, static_cast<size_t>(spec.width - len), '0');
  }
  return pad(prefix + digits, spec.width, spec.left);
}

// Formats an int or float for str.format's numeric presentation types.
struct FormatSpec {
  char32_t fill = ' ';
  char align = 0;  // '<' '>' '^' '=' or 0
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = -1;
  char grouping = 0;  // ',' '_' or 0
  int64_t precision = -1;
  char type = 0;
};

Result<FormatSpec> parse_spec(std::string_view spec) {
  FormatSpec s;
  const std::u32string u = unicode::to_u32(spec);
  size_t i = 0;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (u.size() >= 2 && is_align(u[1])) {
    s.fill = u[0];
    s.align = static_cast<char>(u[1]);
    i = 2;
  } else if (!u.empty() && is_align(u[0])) {
    s.align = static_cast<char>(u[0]);
    i = 1;
  }
  if (i < u.size() && (u[i] == '+' || u[i] == '-' || u[i] == ' '))
    s.sign = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '#') {
    s.alt = true;
    ++i;
  }
  if (i < u.size() && u[i] == '0') {
    s.zero = true;
    ++i;
  }
  auto read_int = [&](int64_t& out) {
    bool any = false;
    out = 0;
    while (i < u.size() && u[i] >= '0' && u[i] <= '9') {
      out = std::min<int64_t>(out * 10 + (u[i] - '0'), 1'000'000);
      ++i;
      any = true;
    }
    return any;
  };
  int64_t w;
  if (read_int(w)) s.width = w;
  if (i < u.size() && (u[i] == ',' || u[i] == '_')) s.grouping = static_cast<char>(u[i++]);
  if (i < u.size() && u[i] == '.') {
    ++i;
    int64_t p;
    if (!read_int(p)) return invalid_argument("Format specifier missing precision");
    s.precision = p;
  }
  if (i < u.size()) s.type = static_cast<char>(u[i++]);
  if (i != u.size()) return invalid_argument("Invalid format specifier");
  return s;
}

std::string group_digits(const std::string& digits, char sep) {
  if (sep == 0) return digits;
  std::string out;
  const size_t n = digits.size();
  for (size_t k = 0; k < n; ++k) {
    if (k > 0 && (n - k) % 3 == 0) out.push_back(sep);
    out.push_back(digits[k]);
  }
  return out;
}

std::string apply_alignment(const FormatSpec& s, const std::string& sign_prefix,
                            const std::string& body, char default_align) {
  char align = s.align ? s.align : default_align;
  char32_t fill = s.fill;
  if (s.zero && !s.align) {
    align = '=';
    fill = '0';
  }
  const int64_t len = static_cast<int64_t>(unicode::count_code_points(sign_prefix) +
                                           unicode::count_code_points(body));
  if (s.width <= len) return sign_prefix + body;
  const int64_t total = s.width - len;
  std::string fill_text;
  auto fills = [&](int64_t n) {
    std::string f;
    for (int64_t k = 0; k < n; ++k) unicode::append_utf8(f, fill);
    return f;
  };
  switch (align) {
    case '<': return sign_prefix + body + fills(total);
    case '^': return fills(total / 2) + sign_prefix + body + fills(total - total / 2);
    case '=': return sign_prefix + fills(total) + body;
    default: return fills(total) + sign_prefix + body;
  }
}

std::string sign_text(const FormatSpec& s, bool negative) {
  if (negative) return "-";
  if (s.sign == '+') return "+";
  if (s.sign == ' ') return " ";
  return "";
}

Result<std::string> format_int(const FormatSpec& s, int64_t v) {
  char type = s.type ? s.type : 'd';
  if (type == 'n') type = 'd';
  std::string digits;
  std::string prefix;
  switch (type) {
    case 'd': digits = group_digits(to_base(magnitude(v), 10, false), s.grouping); break;
    case 'b':
      digits = to_base(magnitude(v), 2, false);
      prefix = s.alt ? "0b" : "";
      break;
    case 'o':
      digits = to_base(magnitude(v), 8, false);
      prefix = s.alt ? "0o" : "";
      break;
    case 'x':
      digits = to_base(magnitude(v), 16, false);
      prefix = s.alt ? "0x" : "";
      break;
    case 'X':
      digits = to_base(magnitude(v), 16, true);
      prefix = s.alt ? "0X" : "";
      break;
    case 'c': {
      if (v < 0 || v > 0x10FFFF) return out_of_range("%c arg not in range(0x110000)");
      std::string c;
      unicode::append_utf8(c, static_cast<char32_t>(v));
      return apply_alignment(s, "", c, '<');
    }
    default: return invalid_argument("Unknown format code '{}' for object of type 'int'", type);
  }
  return apply_alignment(s, sign_text(s, v < 0) + prefix, digits, '>');
}

Result<std::string> format_float(const FormatSpec& s, double v) {
  char type = s.type;
  if (type == 'n') type = 'g';
  const bool negative = std::signbit(v) && !std::isnan(v);
  const double a = std::fabs(v);
  std::string body;
  if (type == 0 && s.precision < 0) {
    body = float_repr(a);
  } else {
    const int64_t prec = s.precision >= 0 ? std::min<int64_t>(s.precision, 1000) : 6;
    char c = type ? type : 'g';
    double x = a;
    if (c == '%') {
      x = a * 100.0;
      c = 'f';
    }
    if (c != 'e' && c != 'E' && c != 'f' && c != 'F' && c != 'g' && c != 'G') {
      return invalid_argument("Unknown format code '{}' for object of type 'float'", type);
    }
    std::string f = "%";
    if (s.alt) f += '#';
    f += fmt::format(".{}{}", type == 0 && prec == 0 ? 1 : prec, c);
    const int n = std::snprintf(nullptr, 0, f.c_str(), x);
    body.assign(static_cast<size_t>(n), '\0');
    std::snprintf(body.data(), body.size() + 1, f.c_str(), x);
    if (type == 0 && std::isfinite(a) && body.find_first_of(".e") == std::string::npos) {
      body += ".0";
    }
    if (type == '%') body += '%';
  }
  if (s.grouping && std::isfinite(a)) {
    size_t end = body.find_first_of(".e%");
    if (end == std::string::npos) end = body.size();
    body = group_digits(body.substr(0, end), s.grouping) + body.substr(end);
  }
  return apply_alignment(s, sign_text(s, negative), body, '>');
}

Result<std::string> percent_arg_str(const Value& arg, char type) {
  if (type == 'r') return repr(arg);
  if (type == 'a') return ascii_repr(arg);
  return to_str(arg);
}

Status not_real(char type, const Value& arg) {
  if (type == 'd' || type == 'i' || type == 'u') {
    return invalid_argument("%{} format: a real number is required, not {}", type,
                            py_type_name(arg));
  }
  return invalid_argument("must be real number, not {}", py_type_name(arg));
}

}  // namespace

Result<Value> percent_format(Budget& budget, const Value& fmt, const Value& args) {
  const std::string& f = fmt.as_string();
  const bool markup = fmt.is_markup();
  std::vector<Value> positional;
  const bool mapping_mode = args.is_dict() || args.is_list();
  if (args.is_tuple()) {
    positional = args.items();
  } else {
    positional.push_back(args);
  }
  size_t arg_idx = 0;
  std::string out;
  auto next_arg = [&]() -> Result<Value> {
    if (arg_idx >= positional.size()) {
      return invalid_argument("not enough arguments for format string");
    }
    return positional[arg_idx++];
  };
  size_t i = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (c != '%') {
      out.push_back(c);
      ++i;
      continue;
    }
    ++i;
    if (i >= f.size()) return invalid_argument("incomplete format");
    std::optional<Value> keyed;
    if (f[i] == '(') {
      if (!mapping_mode) return invalid_argument("format requires a mapping");
      int depth = 1;
      const size_t key_start = ++i;
      while (i < f.size() && depth > 0) {
        if (f[i] == '(') ++depth;
        if (f[i] == ')') --depth;
        ++i;
      }
      if (depth > 0) return invalid_argument("incomplete format key");
      const std::string key = f.substr(key_start, i - 1 - key_start);
      if (!args.is_dict()) {
        return invalid_argument("list indices must be integers or slices, not str");
      }
      const Value* v = args.as_dict().find(std::string_view(key));
      if (v == nullptr) return not_found("'{}'", key);
      keyed = *v;
    }
    PercentSpec spec;
    for (; i < f.size(); ++i) {
      const char fl = f[i];
      if (fl == '-')
        spec.left = true;
      else if (fl == '+')
        spec.plus = true;
      else if (fl == ' ')
        spec.space = true;
      else if (fl == '#')
        spec.alt = true;
      else if (fl == '0')
        spec.zero = true;
      else
        break;
    }
    auto read_number = [&](int64_t& out_value) -> Status {
      if (i < f.size() && f[i] == '*') {
        ++i;
        INFERD_ASSIGN_OR_RETURN(Value w, next_arg());
        if (!w.is_integral()) return invalid_argument("* wants int");
        out_value = w.as_int();
        return Status::ok_status();
      }
      bool any = false;
      int64_t n = 0;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        n = std::min<int64_t>(n * 10 + (f[i] - '0'), 1'000'000);
        ++i;
        any = true;
      }
      if (any) out_value = n;
      return Status::ok_status();
    };
    INFERD_RETURN_IF_ERROR(read_number(spec.width));
    if (spec.width < -1) {
      spec.left = true;
      spec.width = -spec.width;
    }
    if (i < f.size() && f[i] == '.') {
      ++i;
      spec.precision = 0;
      INFERD_RETURN_IF_ERROR(read_number(spec.precision));
    }
    while (i < f.size() && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L')) ++i;
    if (i >= f.size()) return invalid_argument("incomplete format");
    const char type = f[i++];
    if (type == '%') {
      out.push_back('%');
      continue;
    }
    Value arg;
    if (keyed.has_value()) {
      arg = *keyed;
    } else {
      INFERD_ASSIGN_OR_RETURN(arg, next_arg());
    }
    std::string piece;
    switch (type) {
      case 's':
      case 'r':
      case 'a': {
        INFERD_ASSIGN_OR_RETURN(std::string text, percent_arg_str(arg, type));
        if (markup && !(type == 's' && arg.is_markup())) text = html_escape(text);
        if (spec.precision >= 0) text = truncate_code_points(text, spec.precision);
        piece = pad(std::move(text), spec.width, spec.left);
        break;
      }
      case 'c': {
        std::string ch;
        if (arg.is_integral()) {
          if (arg.as_int() < 0 || arg.as_int() > 0x10FFFF) {
            return out_of_range("%c arg not in range(0x110000)");
          }
          unicode::append_utf8(ch, static_cast<char32_t>(arg.as_int()));
        } else if (arg.is_string() && unicode::count_code_points(arg.as_string()) == 1) {
          ch = arg.as_string();
        } else {
          return invalid_argument("%c requires int or char");
        }
        piece = pad(std::move(ch), spec.width, spec.left);
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'o':
      case 'x':
      case 'X': {
        int64_t v;
        if (arg.is_integral()) {
          v = arg.as_int();
        } else if (arg.is_float() && (type == 'd' || type == 'i' || type == 'u')) {
          const double d = arg.as_float();
          if (!std::isfinite(d)) return invalid_argument("cannot convert float to integer");
          if (std::fabs(d) >= 9.2e18) return out_of_range("integer out of range");
          v = static_cast<int64_t>(d);
        } else if (arg.is_float()) {
          return invalid_argument("%{} format: an integer is required, not float", type);
        } else if (type == 'o' || type == 'x' || type == 'X') {
          return invalid_argument("%{} format: an integer is required, not {}", type,
                                  py_type_name(arg));
        } else {
          return not_real(type, arg);
        }
        piece = printf_int(spec, (type == 'i' || type == 'u') ? 'd' : type, v);
        break;
      }
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        if (!arg.is_number()) return not_real(type, arg);
        piece = printf_float(spec, type, arg.as_float());
        break;
      default:
        return invalid_argument("unsupported format character '{}' (0x{:x}) at index {}", type,
                                static_cast<unsigned>(static_cast<unsigned char>(type)), i - 1);
    }
    out += piece;
    INFERD_RETURN_IF_ERROR(budget.check_string(out.size()));
  }
  if (arg_idx < positional.size() && !mapping_mode) {
    return invalid_argument("not all arguments converted during string formatting");
  }
  INFERD_RETURN_IF_ERROR(budget.charge_string(out.size()));
  return Value::string(std::move(out), markup);
}

Result<std::string> format_with_spec(const Value& v, std::string_view spec) {
  if (v.is_string()) {
    if (spec.empty()) return v.as_string();
    INFERD_ASSIGN_OR_RETURN(FormatSpec s, parse_spec(spec));
    if (s.type != 0 && s.type != 's') {
      return invalid_argument("Unknown format code '{}' for object of type 'str'", s.type);
    }
    if (s.sign != '-') return invalid_argument("Sign not allowed in string format specifier");
    if (s.align == '=') {
      return invalid_argument("'=' alignment not allowed in string format specifier");
    }
    std::string text = v.as_string();
    if (s.precision >= 0) text = truncate_code_points(text, s.precision);
    return apply_alignment(s, "", text, '<');
  }
  if (v.is_number()) {
    if (spec.empty()) return to_str(v);
    INFERD_ASSIGN_OR_RETURN(FormatSpec s, parse_spec(spec));
    const bool float_type = s.type == 'e' || s.type == 'E' || s.type == 'f' || s.type == 'F' ||
                            s.type == 'g' || s.type == 'G' || s.type == '%';
    if (v.is_float() || float_type) {
      if (v.is_float() && (s.type == 'd' || s.type == 'b' || s.type == 'o' || s.type == 'x' ||
                           s.type == 'X' || s.type == 'c')) {
        return invalid_argument("Unknown format code '{}' for object of type 'float'", s.type);
      }
      return format_float(s, v.as_float());
    }
    return format_int(s, v.as_int());
  }
  if (spec.empty()) return to_str(v);
  return invalid_argument("unsupported format string passed to {}.__format__", py_type_name(v));
}

Result<Value> str_format(Budget& budget, const Value& fmt, const CallArgs& args,
                         const FieldLookup& lookup) {
  const std::string& f = fmt.as_string();
  const bool markup = fmt.is_markup();
  std::string out;
  int auto_index = 0;
  enum { kUnknown, kAuto, kManual } numbering = kUnknown;

  auto resolve_field = [&](const std::string& field) -> Result<Value> {
    size_t i = 0;
    while (i < field.size() && field[i] != '.' && field[i] != '[') ++i;
    const std::string first = field.substr(0, i);
    Value obj;
    const bool numeric = !first.empty() && std::all_of(first.begin(), first.end(),
                                                       [](char c) { return c >= '0' && c <= '9'; });
    if (first.empty() || numeric) {
      size_t index;
      if (first.empty()) {
        if (numbering == kManual) {
          return invalid_argument(
              "cannot switch from manual field specification to automatic field numbering");
        }
        numbering = kAuto;
        index = static_cast<size_t>(auto_index++);
      } else {
        if (numbering == kAuto) {
          return invalid_argument(
              "cannot switch from automatic field numbering to manual field specification");
        }
        numbering = kManual;
        index = first.size() > 9 ? SIZE_MAX : static_cast<size_t>(std::stoull(first));
      }
      if (index >= args.positional.size()) {
        return out_of_range("Replacement index {} out of range for positional args tuple",
                            first.empty() ? std::to_string(index) : first);
      }
      obj = args.positional[index];
    } else {
      bool found = false;
      for (const auto& [name, value] : args.keywords) {
        if (name == first) {
          obj = value;
          found = true;
        }
      }
      if (!found) return not_found("'{}'", first);
    }
    while (i < field.size()) {
      if (field[i] == '.') {
        size_t j = ++i;
        while (j < field.size() && field[j] != '.' && field[j] != '[') ++j;
        const std::string name = field.substr(i, j - i);
        if (name.empty()) return invalid_argument("Empty attribute in format string");
        INFERD_ASSIGN_OR_RETURN(obj, lookup(obj, true, name));
        i = j;
      } else {
        const size_t close = field.find(']', i);
        if (close == std::string::npos) return invalid_argument("Missing ']' in format string");
        const std::string key = field.substr(i + 1, close - i - 1);
        INFERD_ASSIGN_OR_RETURN(obj, lookup(obj, false, key));
        i = close + 1;
      }
    }
    return obj;
  };

  std::function<Result<std::string>(const std::string&, int)> expand_spec;
  auto render_field = [&](const std::string& body, int depth) -> Result<std::string> {
    // body: field_name[!conversion][:spec]
    size_t k = 0;
    int bracket = 0;
    while (k < body.size()) {
      if (body[k] == '[') ++bracket;
      if (body[k] == ']') --bracket;
      if (bracket == 0 && (body[k] == '!' || body[k] == ':')) break;
      ++k;
    }
    const std::string field = body.substr(0, k);
    char conversion = 0;
    std::string spec;
    if (k < body.size() && body[k] == '!') {
      if (k + 1 >= body.size())
        return invalid_argument("end of string while looking for conversion specifier");
      conversion = body[k + 1];
      k += 2;
      if (k < body.size() && body[k] != ':') {
        return invalid_argument("expected ':' after conversion specifier");
      }
    }
    if (k < body.size() && body[k] == ':') spec = body.substr(k + 1);
    INFERD_ASSIGN_OR_RETURN(Value value, resolve_field(field));
    if (conversion == 'r' || conversion == 's' || conversion == 'a') {
      std::string text;
      if (conversion == 'r') {
        INFERD_ASSIGN_OR_RETURN(text, repr(value));
      } else if (conversion == 'a') {
        INFERD_ASSIGN_OR_RETURN(text, ascii_repr(value));
      } else {
        INFERD_ASSIGN_OR_RETURN(text, to_str(value));
      }
      value = Value::string(std::move(text));
    } else if (conversion != 0) {
      return invalid_argument("Unknown conversion specifier {}", conversion);
    }
    INFERD_ASSIGN_OR_RETURN(std::string expanded_spec, expand_spec(spec, depth + 1));
    if (markup && value.is_markup()) {
      if (!expanded_spec.empty()) return invalid_argument("Markup values take no format spec");
      return value.as_string();
    }
    INFERD_ASSIGN_OR_RETURN(std::string text, format_with_spec(value, expanded_spec));
    return markup ? html_escape(text) : text;
  };
  expand_spec = [&](const std::string& spec, int depth) -> Result<std::string> {
    if (spec.find('{') == std::string::npos) return spec;
    if (depth > 2) return invalid_argument("Max string recursion exceeded");
    std::string result;
    size_t p = 0;
    while (p < spec.size()) {
      if (spec[p] == '{') {
        const size_t close = spec.find('}', p);
        if (close == std::string::npos) return invalid_argument("unmatched '{{' in format spec");
        INFERD_ASSIGN_OR_RETURN(std::string piece,
                                render_field(spec.substr(p + 1, close - p - 1), depth));
        result += piece;
        p = close + 1;
      } else {
        result.push_back(spec[p++]);
      }
    }
    return result;
  };

  size_t i = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (c == '{') {
      if (i + 1 < f.size() && f[i + 1] == '{') {
        out.push_back('{');
        i += 2;
        continue;
      }
      int depth = 1;
      size_t j = i + 1;
      while (j < f.size() && depth > 0) {
        if (f[j] == '{') ++depth;
        if (f[j] == '}') --depth;
        if (depth > 0) ++j;
      }
      if (j >= f.size()) return invalid_argument("Single '{{' encountered in format string");
      INFERD_ASSIGN_OR_RETURN(std::string piece, render_field(f.substr(i + 1, j - i - 1), 0));
      out += piece;
      INFERD_RETURN_IF_ERROR(budget.check_string(out.size()));
      i = j + 1;
    } else if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') {
        out.push_back('}');
        i += 2;
        continue;
      }
      return invalid_argument("Single '}}' encountered in format string");
    } else {
      out.push_back(c);
      ++i;
    }
  }
  INFERD_RETURN_IF_ERROR(budget.charge_string(out.size()));
  return Value::string(std::move(out), markup);
}

}  // namespace inferd::chat::jinja
