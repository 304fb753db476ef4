// Integer form of a K-quant super-block: the one decoding of the GGUF block layouts that the
// scalar reference (to_float and gemm) is built on.
#pragma once

#include <cstdint>

#include "backend/cpu/blocks.h"

namespace inferd::backend::cpu::kquant {

// Element e of the super-block is  d * sc[e / 16] * q[e] - dm * m[e / 16].
// Q2_K, Q4_K, Q5_K: q >= 0, m = sub-block min, dm = dmin. Q3_K, Q6_K: q signed, m = 0, dm = 0.
struct KBlockInts {
  float d = 0;
  float dm = 0;
  int16_t sc[kQK_K / 16] = {};
  int16_t m[kQK_K / 16] = {};
  int8_t q[kQK_K] = {};
};

void unpack_ints(const BlockQ2_K& b, KBlockInts* out);
void unpack_ints(const BlockQ3_K& b, KBlockInts* out);
void unpack_ints(const BlockQ4_K& b, KBlockInts* out);
void unpack_ints(const BlockQ5_K& b, KBlockInts* out);
void unpack_ints(const BlockQ6_K& b, KBlockInts* out);

}  // namespace inferd::backend::cpu::kquant
