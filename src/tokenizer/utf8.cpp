#include "tokenizer/utf8.h"

namespace inferd::tokenizer {

int utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;  // continuation byte or overlong two-byte lead
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

namespace {

bool is_continuation(uint8_t b) {
  return (b & 0xC0) == 0x80;
}

// Whether `second` may follow `lead` (rules out overlongs, surrogates and values > U+10FFFF).
bool second_byte_ok(uint8_t lead, uint8_t second) {
  if (!is_continuation(second)) return false;
  if (lead == 0xE0) return second >= 0xA0;
  if (lead == 0xED) return second < 0xA0;
  if (lead == 0xF0) return second >= 0x90;
  if (lead == 0xF4) return second < 0x90;
  return true;
}

}  // namespace

int utf8_valid_length(std::string_view text, size_t pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  const int len = utf8_sequence_length(lead);
  if (len <= 1) return len;
  if (pos + len > text.size()) return 0;
  if (!second_byte_ok(lead, static_cast<uint8_t>(text[pos + 1]))) return 0;
  for (int i = 2; i < len; ++i)
    if (!is_continuation(static_cast<uint8_t>(text[pos + i]))) return 0;
  return len;
}

uint32_t utf8_decode(std::string_view text, size_t& pos) {
  const int len = utf8_valid_length(text, pos);
  const auto* p = reinterpret_cast<const uint8_t*>(text.data()) + pos;
  switch (len) {
    case 1: pos += 1; return p[0];
    case 2: pos += 2; return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
    case 3: pos += 3; return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    case 4:
      pos += 4;
      return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
             (p[3] & 0x3Fu);
    default: pos += 1; return kReplacementChar;
  }
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t utf8_incomplete_suffix(std::string_view text) {
  const size_t n = text.size();
  // A sequence is at most 4 bytes, so an incomplete one starts within the last 3 bytes.
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<uint8_t>(text[n - back]);
    if (is_continuation(b)) continue;
    const int len = utf8_sequence_length(b);
    if (len <= static_cast<int>(back)) return 0;  // complete (or not a lead byte at all)
    // Incomplete: the bytes present must be a valid prefix of a sequence of length `len`.
    if (back >= 2 && !second_byte_ok(b, static_cast<uint8_t>(text[n - back + 1]))) return 0;
    return back;
  }
  return 0;
}

void utf8_append_sanitized(std::string& out, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // Copy runs of ASCII and valid sequences directly.
    const size_t start = pos;
    while (pos < text.size()) {
      const int len = utf8_valid_length(text, pos);
      if (len == 0) break;
      pos += len;
    }
    out.append(text.data() + start, pos - start);
    if (pos < text.size()) {
      utf8_append(out, kReplacementChar);
      ++pos;
    }
  }
}

}  // namespace inferd::tokenizer
