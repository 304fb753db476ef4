// Hash functions for the tokenizer's lookup tables (not cryptographic; fixed, so lookups are
// deterministic across runs).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace inferd::tokenizer {

// Final avalanche of a 64-bit value (every input bit affects every output bit).
inline uint64_t hash_mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

// Hash of a byte string, eight bytes at a time.
inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ hash_mix64(w)) * 0x9E3779B97F4A7C15ull;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, s.data() + i, s.size() - i);
  return hash_mix64(h ^ tail);
}

}  // namespace inferd::tokenizer
