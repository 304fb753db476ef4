// The byte-level alphabet of GPT-2 style BPE vocabularies: every byte value maps to one printable
// Unicode character so that token texts never contain raw control bytes or spaces. Printable
// Latin-1 bytes ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) map to themselves; the remaining 68
// bytes map, in increasing byte order, to U+0100, U+0101, ...
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace inferd::tokenizer {

// The character that represents `byte`.
uint32_t byte_to_unicode(uint8_t byte);
// The UTF-8 text of that character (1 or 2 bytes).
std::string_view byte_to_unicode_utf8(uint8_t byte);
// The byte a character represents, or -1 when `cp` is not in the byte-level alphabet.
int unicode_to_byte(uint32_t cp);

// Appends the bytes that byte-level `text` represents; characters outside the alphabet are
// copied through unchanged (so no input is lost).
void byte_level_decode_append(std::string& out, std::string_view text);

}  // namespace inferd::tokenizer
