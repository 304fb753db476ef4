// Scalars read from unaligned bytes of packed blocks, for the SIMD kernel files (compiled with
// F16C). The anonymous namespace gives each including file its own copy, compiled for that
// file's instruction set, so no kernel file can end up calling another file's version.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace inferd::backend::cpu {
namespace {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

inline float f32_at(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace
}  // namespace inferd::backend::cpu
