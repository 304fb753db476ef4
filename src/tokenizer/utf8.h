// UTF-8 helpers for the tokenizers. All functions accept arbitrary bytes: malformed input never
// reads out of bounds; it decodes as U+FFFD one byte at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace inferd::tokenizer {

inline constexpr uint32_t kReplacementChar = 0xFFFD;

// Length of the UTF-8 sequence that `lead` starts (1..4), or 0 when `lead` cannot start one
// (a continuation byte, or 0xF8..0xFF, 0xC0, 0xC1).
int utf8_sequence_length(uint8_t lead);

// Length in bytes of the well-formed UTF-8 character at text[pos], or 0 when the bytes there do
// not form one (truncated, bad continuation, overlong, surrogate or above U+10FFFF).
// REQUIRES: pos < text.size().
int utf8_valid_length(std::string_view text, size_t pos);

// Decodes the character at text[pos] and advances pos past it; a malformed byte yields U+FFFD and
// advances by one. REQUIRES: pos < text.size().
uint32_t utf8_decode(std::string_view text, size_t& pos);

// Appends the UTF-8 encoding of `cp` (values above U+10FFFF or surrogates append U+FFFD).
void utf8_append(std::string& out, uint32_t cp);

// Number of bytes at the end of `text` that begin a well-formed but incomplete UTF-8 sequence
// (0..3): the bytes to hold back until more input arrives.
size_t utf8_incomplete_suffix(std::string_view text);

// Appends `text` to `out`, replacing each malformed byte with U+FFFD, so `out` stays valid UTF-8.
void utf8_append_sanitized(std::string& out, std::string_view text);

}  // namespace inferd::tokenizer
