// Block layouts of the quantized types, exactly as stored in GGUF files (little-endian, packed).
// d / dmin / m are IEEE half scales; qs hold quantized values; see each struct for the formula.
#pragma once

#include <cstdint>

#include "base/half.h"

namespace inferd::backend {

constexpr int kQK = 32;    // elements per legacy block
constexpr int kQK_K = 256; // elements per K-quant super-block
constexpr int kKScaleBytes = 12;

#pragma pack(push, 1)
// x[i] = d * (q[i] - 8); q[i] = qs[i] & 15 for i < 16, qs[i - 16] >> 4 for i >= 16.
struct BlockQ4_0 { f16_t d; uint8_t qs[kQK / 2]; };
// x[i] = d * q[i] + m; q as in Q4_0.
struct BlockQ4_1 { f16_t d; f16_t m; uint8_t qs[kQK / 2]; };
// x[i] = d * (q[i] - 16); low 4 bits as in Q4_0, bit 4 of element i is bit i of qh.
struct BlockQ5_0 { f16_t d; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
// x[i] = d * q[i] + m; q as in Q5_0.
struct BlockQ5_1 { f16_t d; f16_t m; uint8_t qh[4]; uint8_t qs[kQK / 2]; };
// x[i] = d * qs[i].
struct BlockQ8_0 { f16_t d; int8_t qs[kQK]; };
// Q2_K: 16 sub-blocks of 16; 2-bit q; scales[j] low nibble = 4-bit scale, high nibble = 4-bit min;
// x = d * sc * q - dmin * m.
struct BlockQ2_K { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; f16_t d; f16_t dmin; };
// Q3_K: 16 sub-blocks of 16; 3-bit q (2 low bits in qs, high bit in hmask, stored inverted as
// "subtract 4 when clear"); 6-bit signed scales packed in 12 bytes; x = d * (sc - 32) * q.
struct BlockQ3_K { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; f16_t d; };
// Q4_K: 8 sub-blocks of 32; 4-bit q; 6-bit scales and mins packed in 12 bytes;
// x = d * sc * q - dmin * m.
struct BlockQ4_K { f16_t d; f16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qs[kQK_K / 2]; };
// Q5_K: as Q4_K with a fifth bit per element in qh.
struct BlockQ5_K {
  f16_t d; f16_t dmin; uint8_t scales[kKScaleBytes]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2];
};
// Q6_K: 16 sub-blocks of 16; 6-bit q (4 low bits in ql, 2 high in qh); int8 scales;
// x = d * sc * (q - 32).
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; f16_t d; };
// Q8_K (activations only): float scale, int8 values, and sums of each 16 values.
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace inferd::backend
