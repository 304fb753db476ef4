#include "engine/grammar/utf8_byte_ranges.h"

#include "base/check.h"

namespace inferd::engine {
namespace {

int encoded_length(uint32_t cp) {
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

void encode(uint32_t cp, uint8_t* out) {
  switch (encoded_length(cp)) {
    case 1: out[0] = static_cast<uint8_t>(cp); break;
    case 2:
      out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
      out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
      break;
    case 3:
      out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
      out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
      break;
    default:
      out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
      out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
      out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
      out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
      break;
  }
}

// Splits [lo, hi] until both ends encode to the same length and every trailing 6-bit group spans
// its full range below the first differing one; then the encodings of lo and hi give the ranges.
void split(uint32_t lo, uint32_t hi, std::vector<Utf8Sequence>& out) {
  static constexpr uint32_t kLengthEnds[] = {0x7F, 0x7FF, 0xFFFF};
  for (uint32_t end : kLengthEnds) {
    if (lo <= end && hi > end) {
      split(lo, end, out);
      split(end + 1, hi, out);
      return;
    }
  }
  const int n = encoded_length(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t mask = (uint32_t{1} << (6 * i)) - 1;
    if ((lo & ~mask) == (hi & ~mask)) continue;
    if ((lo & mask) != 0) {
      split(lo, lo | mask, out);
      split((lo | mask) + 1, hi, out);
      return;
    }
    if ((hi & mask) != mask) {
      split(lo, (hi & ~mask) - 1, out);
      split(hi & ~mask, hi, out);
      return;
    }
  }
  uint8_t a[4], b[4];
  encode(lo, a);
  encode(hi, b);
  Utf8Sequence seq;
  seq.length = n;
  for (int i = 0; i < n; ++i) seq.bytes[i] = {a[i], b[i]};
  out.push_back(seq);
}

}  // namespace

void append_utf8_sequences(CodepointRange range, std::vector<Utf8Sequence>& out) {
  INFERD_CHECK(range.first <= range.last && range.last <= kMaxCodepoint);
  INFERD_CHECK(range.last < kSurrogateFirst || range.first > kSurrogateLast);
  split(range.first, range.last, out);
}

std::vector<Utf8Sequence> utf8_sequences(const CharSet& set) {
  std::vector<Utf8Sequence> out;
  for (const CodepointRange& r : set.ranges()) append_utf8_sequences(r, out);
  return out;
}

}  // namespace inferd::engine
