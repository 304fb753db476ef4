// The UTF-8 encodings of a range of code points as a union of byte-range sequences: every
// sequence is 1..4 ranges [lo, hi], and a byte string encodes a code point of the range iff it
// matches exactly one sequence, byte by byte.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/grammar/char_set.h"

namespace inferd::engine {

struct ByteRange {
  uint8_t lo = 0;
  uint8_t hi = 0;
  bool operator==(const ByteRange&) const = default;
};

struct Utf8Sequence {
  ByteRange bytes[4];
  int32_t length = 0;
};

// Appends the sequences of `range` (REQUIRES: no surrogate inside, last <= U+10FFFF) to `out`,
// in code point order.
void append_utf8_sequences(CodepointRange range, std::vector<Utf8Sequence>& out);

// The sequences of every range of `set`.
std::vector<Utf8Sequence> utf8_sequences(const CharSet& set);

}  // namespace inferd::engine
