#include "chat/jinja/unicode.h"

#include <algorithm>

#include "chat/jinja/unicode_tables.h"

namespace inferd::chat::jinja::unicode {
namespace {

namespace tables = unicode_tables;

bool in_ranges(std::span<const tables::CodeRange> ranges, char32_t c) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), c,
                             [](char32_t v, const tables::CodeRange& r) { return v < r.lo; });
  if (it == ranges.begin()) return false;
  --it;
  return c >= it->lo && c <= it->hi;
}

const tables::CaseMapping* find_mapping(std::span<const tables::CaseMapping> table, char32_t c) {
  auto it = std::lower_bound(table.begin(), table.end(), c,
                             [](const tables::CaseMapping& m, char32_t v) { return m.from < v; });
  if (it == table.end() || it->from != c) return nullptr;
  return &*it;
}

void append_mapped(std::u32string& out, std::span<const tables::CaseMapping> table, char32_t c) {
  const tables::CaseMapping* m = find_mapping(table, c);
  if (m == nullptr) {
    out.push_back(c);
    return;
  }
  for (char32_t t : m->to) {
    if (t == 0) break;
    out.push_back(t);
  }
}

constexpr char32_t kCapitalSigma = 0x3A3;

// Python's lower() of U+03A3 depends on context (Unicode Final_Sigma).
char32_t lower_sigma(const std::u32string& s, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    --j;
    c = s[j];
    if (!is_case_ignorable(c)) {
      found = true;
      break;
    }
  }
  bool final_sigma = found && is_cased(c);
  if (final_sigma && i + 1 < s.size()) {
    size_t k = i + 1;
    for (; k < s.size(); ++k) {
      c = s[k];
      if (!is_case_ignorable(c)) break;
    }
    final_sigma = k == s.size() || !is_cased(c);
  }
  return final_sigma ? 0x3C2 : 0x3C3;
}

void append_lower(std::u32string& out, const std::u32string& s, size_t i) {
  if (s[i] == kCapitalSigma) {
    out.push_back(lower_sigma(s, i));
  } else {
    append_mapped(out, tables::lower_mappings, s[i]);
  }
}

bool in_chars(const std::u32string& chars, char32_t c) {
  return chars.find(c) != std::u32string::npos;
}

}  // namespace

char32_t decode_next(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    ++pos;
    return 0xFFFD;
  }
  if (pos + len > s.size()) {
    ++pos;
    return 0xFFFD;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[pos + k]);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF) {
    ++pos;
    return 0xFFFD;
  }
  pos += len;
  return cp;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    append_utf8(out, 0xFFFD);
  }
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) out.push_back(decode_next(s, pos));
  return out;
}

std::string to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    decode_next(s, pos);
    ++n;
  }
  return n;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool is_valid_utf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    const char32_t cp = decode_next(s, pos);
    // decode_next reports malformed input as U+FFFD consuming one byte; a real U+FFFD takes 3.
    if (cp == 0xFFFD && pos - start != 3) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  }
  return true;
}

bool is_space(char32_t c) {
  switch (c) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x1F:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

bool is_printable(char32_t c) {
  if (c >= 0x20 && c < 0x7F) return true;
  return in_ranges(tables::printable_ranges, c);
}
bool is_alpha(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return in_ranges(tables::alpha_ranges, c);
}
bool is_decimal(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return in_ranges(tables::decimal_ranges, c);
}
bool is_digit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return in_ranges(tables::digit_ranges, c);
}
bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return in_ranges(tables::numeric_ranges, c);
}
bool is_alnum(char32_t c) {
  return is_alpha(c) || is_decimal(c) || is_digit(c) || is_numeric(c);
}
bool is_lowercase(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return in_ranges(tables::lowercase_ranges, c);
}
bool is_uppercase(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return in_ranges(tables::uppercase_ranges, c);
}
bool is_titlecase(char32_t c) {
  return c >= 0x80 && in_ranges(tables::titlecase_ranges, c);
}
bool is_cased(char32_t c) {
  return is_lowercase(c) || is_uppercase(c) || is_titlecase(c);
}
bool is_case_ignorable(char32_t c) {
  return in_ranges(tables::case_ignorable_ranges, c);
}
bool is_word(char32_t c) {
  return c == '_' || is_alnum(c);
}

bool is_line_break(char32_t c) {
  switch (c) {
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x1C:
    case 0x1D:
    case 0x1E:
    case 0x85:
    case 0x2028:
    case 0x2029: return true;
    default: return false;
  }
}

std::string lower(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  const std::u32string u = to_u32(s);
  std::u32string out;
  out.reserve(u.size());
  for (size_t i = 0; i < u.size(); ++i) append_lower(out, u, i);
  return to_utf8(out);
}

std::string upper(std::string_view s) {
  if (is_ascii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return out;
  }
  const std::u32string u = to_u32(s);
  std::u32string out;
  out.reserve(u.size());
  for (char32_t c : u) append_mapped(out, tables::upper_mappings, c);
  return to_utf8(out);
}

std::string title(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::u32string out;
  out.reserve(u.size());
  bool previous_is_cased = false;
  for (size_t i = 0; i < u.size(); ++i) {
    if (previous_is_cased) {
      append_lower(out, u, i);
    } else {
      append_mapped(out, tables::title_mappings, u[i]);
    }
    previous_is_cased = is_cased(u[i]);
  }
  return to_utf8(out);
}

std::string capitalize(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::u32string out;
  out.reserve(u.size());
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 0) {
      append_mapped(out, tables::title_mappings, u[i]);
    } else {
      append_lower(out, u, i);
    }
  }
  return to_utf8(out);
}

std::string swapcase(std::string_view s) {
  const std::u32string u = to_u32(s);
  std::u32string out;
  out.reserve(u.size());
  for (size_t i = 0; i < u.size(); ++i) {
    if (is_uppercase(u[i])) {
      append_lower(out, u, i);
    } else if (is_lowercase(u[i])) {
      append_mapped(out, tables::upper_mappings, u[i]);
    } else {
      out.push_back(u[i]);
    }
  }
  return to_utf8(out);
}

bool str_islower(std::string_view s) {
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = decode_next(s, pos);
    if (is_uppercase(c) || is_titlecase(c)) return false;
    if (!cased && is_lowercase(c)) cased = true;
  }
  return cased;
}

bool str_isupper(std::string_view s) {
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = decode_next(s, pos);
    if (is_lowercase(c) || is_titlecase(c)) return false;
    if (!cased && is_uppercase(c)) cased = true;
  }
  return cased;
}

bool str_istitle(std::string_view s) {
  bool cased = false;
  bool previous_is_cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t c = decode_next(s, pos);
    if (is_uppercase(c) || is_titlecase(c)) {
      if (previous_is_cased) return false;
      previous_is_cased = true;
      cased = true;
    } else if (is_lowercase(c)) {
      if (!previous_is_cased) return false;
      previous_is_cased = true;
      cased = true;
    } else {
      previous_is_cased = false;
    }
  }
  return cased;
}

bool str_all(std::string_view s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    if (!pred(decode_next(s, pos))) return false;
  }
  return true;
}

std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                  bool right) {
  if (!chars.has_value() && is_ascii(s)) {
    size_t b = 0;
    size_t e = s.size();
    auto ws = [](char c) {
      return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    };
    if (left) {
      while (b < e && ws(s[b])) ++b;
    }
    if (right) {
      while (e > b && ws(s[e - 1])) --e;
    }
    return std::string(s.substr(b, e - b));
  }
  const std::u32string u = to_u32(s);
  const std::u32string set = chars.has_value() ? to_u32(*chars) : std::u32string();
  auto strip_char = [&](char32_t c) { return chars.has_value() ? in_chars(set, c) : is_space(c); };
  size_t b = 0;
  size_t e = u.size();
  if (left) {
    while (b < e && strip_char(u[b])) ++b;
  }
  if (right) {
    while (e > b && strip_char(u[e - 1])) --e;
  }
  return to_utf8(std::u32string_view(u).substr(b, e - b));
}

std::vector<std::string> split_whitespace(std::string_view s, long long maxsplit) {
  const std::u32string u = to_u32(s);
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = u.size();
  while (true) {
    while (i < n && is_space(u[i])) ++i;
    if (i == n) break;
    if (maxsplit >= 0 && static_cast<long long>(out.size()) == maxsplit) {
      size_t e = n;
      while (e > i && is_space(u[e - 1])) --e;
      out.push_back(to_utf8(std::u32string_view(u).substr(i, e - i)));
      break;
    }
    size_t j = i;
    while (j < n && !is_space(u[j])) ++j;
    out.push_back(to_utf8(std::u32string_view(u).substr(i, j - i)));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit_whitespace(std::string_view s, long long maxsplit) {
  const std::u32string u = to_u32(s);
  std::vector<std::string> out;
  size_t i = u.size();
  while (true) {
    while (i > 0 && is_space(u[i - 1])) --i;
    if (i == 0) break;
    if (maxsplit >= 0 && static_cast<long long>(out.size()) == maxsplit) {
      size_t b = 0;
      while (b < i && is_space(u[b])) ++b;
      out.push_back(to_utf8(std::u32string_view(u).substr(b, i - b)));
      break;
    }
    size_t j = i;
    while (j > 0 && !is_space(u[j - 1])) --j;
    out.push_back(to_utf8(std::u32string_view(u).substr(j, i - j)));
    i = j;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  const std::u32string u = to_u32(s);
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = u.size();
  while (i < n) {
    size_t j = i;
    while (j < n && !is_line_break(u[j])) ++j;
    size_t eol = j;
    if (j < n) {
      if (u[j] == '\r' && j + 1 < n && u[j + 1] == '\n') {
        j += 2;
      } else {
        ++j;
      }
      if (keepends) eol = j;
    }
    out.push_back(to_utf8(std::u32string_view(u).substr(i, eol - i)));
    i = j;
  }
  return out;
}

}  // namespace inferd::chat::jinja::unicode
