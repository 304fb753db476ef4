// Decoding of the packed sub-block scales of Q3_K, Q4_K and Q5_K, shared by every ISA level.
// The functions live in an unnamed namespace on purpose: each translation unit, compiled with
// its own ISA flags, keeps a private copy, so a baseline caller can never be linked to a copy
// compiled for AVX-512.
#pragma once

#include <cstdint>
#include <cstring>

namespace inferd::backend::cpu::kquant {
namespace {

// Q4_K / Q5_K: the 12 bytes hold 8 six-bit scales and 8 six-bit mins. For j < 4, scale j is the
// low 6 bits of byte j and min j the low 6 bits of byte j + 4. For j >= 4, scale j is the low
// nibble of byte j + 4 plus the top 2 bits of byte j - 4 as bits 4..5; min j is the high nibble
// of byte j + 4 plus the top 2 bits of byte j as bits 4..5.
// On return byte j (little-endian) of *scales / *mins is sub-block j's scale / min.
inline void unpack_k4_scales(const uint8_t* packed, uint64_t* scales, uint64_t* mins) {
  uint32_t u0, u1, u2;
  std::memcpy(&u0, packed, 4);
  std::memcpy(&u1, packed + 4, 4);
  std::memcpy(&u2, packed + 8, 4);
  constexpr uint32_t kLow6 = 0x3f3f3f3fu, kLow4 = 0x0f0f0f0fu, kBits45 = 0x30303030u;
  const uint32_t sc_hi = (u2 & kLow4) | ((u0 >> 2) & kBits45);
  const uint32_t m_hi = ((u2 >> 4) & kLow4) | ((u1 >> 2) & kBits45);
  *scales = (u0 & kLow6) | (static_cast<uint64_t>(sc_hi) << 32);
  *mins = (u1 & kLow6) | (static_cast<uint64_t>(m_hi) << 32);
}

// Q3_K: the 12 bytes hold 16 six-bit scales, stored with a bias of 32. Scale k's low nibble is
// the low nibble of byte k (k < 8) or the high nibble of byte k - 8 (k >= 8); its bits 4..5 are
// bits 2*(k/4) .. 2*(k/4)+1 of byte 8 + k%4.
// On return byte k of *lo (k < 8) or of *hi (k >= 8) is biased scale k, in 0..63.
inline void unpack_q3_k_scales(const uint8_t* packed, uint64_t* lo, uint64_t* hi) {
  uint64_t u01;
  uint32_t u2;
  std::memcpy(&u01, packed, 8);
  std::memcpy(&u2, packed + 8, 4);
  constexpr uint64_t kLow4 = 0x0f0f0f0f0f0f0f0full;
  constexpr uint32_t kLow2 = 0x03030303u;
  const uint64_t top_lo = (u2 & kLow2) | (static_cast<uint64_t>((u2 >> 2) & kLow2) << 32);
  const uint64_t top_hi = ((u2 >> 4) & kLow2) | (static_cast<uint64_t>((u2 >> 6) & kLow2) << 32);
  *lo = (u01 & kLow4) | (top_lo << 4);
  *hi = ((u01 >> 4) & kLow4) | (top_hi << 4);
}

}  // namespace
}  // namespace inferd::backend::cpu::kquant
