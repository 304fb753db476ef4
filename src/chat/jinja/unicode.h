// UTF-8 helpers and Python's str semantics over code points (strip, split, case mapping,
// character classes). Strings are UTF-8 byte strings; malformed bytes decode to U+FFFD so no
// input can make these functions read out of bounds.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferd::chat::jinja::unicode {

// Decodes the code point at `pos` and advances `pos` past it. REQUIRES pos < s.size().
// Malformed sequences yield U+FFFD and advance by one byte. Surrogates encoded as 3-byte
// sequences (as produced by Python-style "\ud800" escapes) decode to their code point.
char32_t decode_next(std::string_view s, size_t& pos);
void append_utf8(std::string& out, char32_t cp);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);
size_t count_code_points(std::string_view s);
bool is_ascii(std::string_view s);
// True when `s` is well-formed UTF-8 (no surrogates, no overlongs).
bool is_valid_utf8(std::string_view s);

// Python's str.isX() for a single code point.
bool is_space(char32_t c);
bool is_printable(char32_t c);
bool is_alpha(char32_t c);
bool is_decimal(char32_t c);
bool is_digit(char32_t c);
bool is_numeric(char32_t c);
bool is_alnum(char32_t c);
bool is_lowercase(char32_t c);
bool is_uppercase(char32_t c);
bool is_titlecase(char32_t c);
bool is_cased(char32_t c);
bool is_case_ignorable(char32_t c);
// A character of Python's regular-expression class \w (str patterns).
bool is_word(char32_t c);
// A character for which Python's str.splitlines() breaks a line.
bool is_line_break(char32_t c);

// Python's str methods, over whole strings.
std::string lower(std::string_view s);
std::string upper(std::string_view s);
std::string title(std::string_view s);
std::string capitalize(std::string_view s);
std::string swapcase(std::string_view s);
bool str_islower(std::string_view s);
bool str_isupper(std::string_view s);
bool str_istitle(std::string_view s);
// isspace/isalpha/isalnum/isdigit/isdecimal/isnumeric: non-empty and every character matches.
bool str_all(std::string_view s, bool (*pred)(char32_t));

// str.strip/lstrip/rstrip: `chars` absent strips Python whitespace.
std::string strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                  bool right);
// str.split() with no separator: runs of whitespace, at most `maxsplit` splits (-1: no limit).
std::vector<std::string> split_whitespace(std::string_view s, long long maxsplit);
// str.rsplit() with no separator.
std::vector<std::string> rsplit_whitespace(std::string_view s, long long maxsplit);
// str.splitlines(keepends).
std::vector<std::string> splitlines(std::string_view s, bool keepends);

}  // namespace inferd::chat::jinja::unicode
