// all_finite: whether every value of a span is finite (neither NaN nor infinite).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace inferd {

// Tested on the bits (an exponent of all ones is infinity or NaN), so that the loop vectorises.
template <typename T>
bool all_finite(std::span<const T> values) {
  uint32_t any = 0;
  for (const T v : values) {
    const auto f = static_cast<float>(v);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    any |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return any == 0;
}

}  // namespace inferd
