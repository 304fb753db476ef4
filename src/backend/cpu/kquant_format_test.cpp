// to_float of the K-quant types against the GGUF block format: hand-built blocks with values
// worked out by hand, and random blocks against decoders written directly from the format
// description (loops over the stored arrays, independent of the library's decoding).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/kquant_testing.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu::kquant {
namespace {

constexpr f16_t kHalf1 = 0x3c00, kHalf05 = 0x3800, kHalf025 = 0x3400, kHalf2 = 0x4000;

template <class Block>
std::vector<float> decode(const Block& b, void (*to_float)(const void*, float*, int64_t)) {
  std::vector<float> y(kQK_K);
  to_float(&b, y.data(), kQK_K);
  return y;
}

// ---- Decoders written from the format description -------------------------------------------

// Q2_K: each half of 128 values reads 32 bytes of qs; the 2-bit fields at shifts 0, 2, 4, 6 give
// 32 values each, the first 16 under one scale byte, the next 16 under the following one.
std::vector<float> expected_q2_k(const BlockQ2_K& b) {
  std::vector<float> y;
  const float d = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
  const uint8_t* q = b.qs;
  int is = 0;
  for (int half = 0; half < 2; ++half, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int part = 0; part < 2; ++part, ++is) {
        const float dl = d * static_cast<float>(b.scales[is] & 15);
        const float ml = dmin * static_cast<float>(b.scales[is] >> 4);
        for (int l = 16 * part; l < 16 * part + 16; ++l)
          y.push_back(dl * static_cast<float>((q[l] >> shift) & 3) - ml);
      }
  return y;
}

int q3_k_scale(const uint8_t* s, int k) {
  const int low = k < 8 ? (s[k] & 15) : (s[k - 8] >> 4);
  const int high = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
  return (low | (high << 4)) - 32;
}

// Q3_K: like Q2_K for the low bits; the high bit of the 32 values at one shift is one bit of
// hmask[0..31] (bit 0 first, moving up every 32 values); a clear bit subtracts 4.
std::vector<float> expected_q3_k(const BlockQ3_K& b) {
  std::vector<float> y;
  const float d = f16_to_f32(b.d);
  const uint8_t* q = b.qs;
  uint8_t m = 1;
  int is = 0;
  for (int half = 0; half < 2; ++half, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m = static_cast<uint8_t>(m << 1))
      for (int part = 0; part < 2; ++part, ++is) {
        const float dl = d * static_cast<float>(q3_k_scale(b.scales, is));
        for (int l = 16 * part; l < 16 * part + 16; ++l)
          y.push_back(dl * static_cast<float>(((q[l] >> shift) & 3) - ((b.hmask[l] & m) ? 0 : 4)));
      }
  return y;
}

void k4_scale_min(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q4_K / Q5_K: each 64 values read 32 bytes of qs, low nibbles (sub-block 2i) then high nibbles
// (sub-block 2i + 1); Q5_K adds 16 where bit 2i (resp. 2i + 1) of qh[l] is set.
std::vector<float> expected_k4(const uint8_t* qs, const uint8_t* qh, const uint8_t* scales,
                               f16_t d16, f16_t dmin16) {
  std::vector<float> y;
  const float d = f16_to_f32(d16), dmin = f16_to_f32(dmin16);
  for (int i = 0; i < 4; ++i, qs += 32) {
    int sc1, m1, sc2, m2;
    k4_scale_min(2 * i, scales, &sc1, &m1);
    k4_scale_min(2 * i + 1, scales, &sc2, &m2);
    for (int l = 0; l < 32; ++l) {
      const int high = (qh != nullptr && ((qh[l] >> (2 * i)) & 1)) ? 16 : 0;
      y.push_back(d * static_cast<float>(sc1) * static_cast<float>((qs[l] & 15) + high) -
                  dmin * static_cast<float>(m1));
    }
    for (int l = 0; l < 32; ++l) {
      const int high = (qh != nullptr && ((qh[l] >> (2 * i + 1)) & 1)) ? 16 : 0;
      y.push_back(d * static_cast<float>(sc2) * static_cast<float>((qs[l] >> 4) + high) -
                  dmin * static_cast<float>(m2));
    }
  }
  return y;
}

// Q6_K: each half of 128 values reads 64 bytes of ql, 32 of qh and 8 scales; value l of the
// four runs of 32 takes ql[l] low, ql[l + 32] low, ql[l] high, ql[l + 32] high, with qh[l]
// bits 0-1, 2-3, 4-5, 6-7 on top, minus 32; run r's scale for l is scales[l / 16 + 2r].
std::vector<float> expected_q6_k(const BlockQ6_K& b) {
  std::vector<float> y(kQK_K);
  const float d = f16_to_f32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int base = 0; base < kQK_K; base += 128, ql += 64, qh += 32, sc += 8)
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[base + l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[base + l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[base + l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[base + l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  return y;
}

// ---- Hand-built blocks ----------------------------------------------------------------------

TEST(KquantFormat, Q2KHandBuilt) {
  BlockQ2_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = kHalf05;
  b.dmin = kHalf025;
  b.scales[0] = 0x37;  // scale 7, min 3
  b.scales[2] = 0x21;  // scale 1, min 2
  b.scales[4] = 0x0f;  // scale 15, min 0
  b.scales[6] = 0xf0;  // scale 0, min 15
  b.qs[0] = 0xe4;      // fields 0, 1, 2, 3 for elements 0, 32, 64, 96
  const auto y = decode(b, q2_k_to_float);
  EXPECT_FLOAT_EQ(y[0], 0.5f * 7 * 0 - 0.25f * 3);
  EXPECT_FLOAT_EQ(y[32], 0.5f * 1 * 1 - 0.25f * 2);
  EXPECT_FLOAT_EQ(y[64], 0.5f * 15 * 2);
  EXPECT_FLOAT_EQ(y[96], -0.25f * 15);
  EXPECT_FLOAT_EQ(y[1], -0.75f);  // same group as element 0, code 0
  EXPECT_FLOAT_EQ(y[128], 0.0f);
}

TEST(KquantFormat, Q3KHandBuilt) {
  BlockQ3_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = kHalf1;
  b.scales[0] = 0x35;  // scale 0 low nibble 5, scale 8 low nibble 3
  b.scales[8] = 0x12;  // scale 0 top bits 2 (-> 37 - 32 = 5), scale 8 top bits 1 (-> 19 - 32)
  b.qs[0] = 0x03;      // element 0: low bits 3; element 32: 0
  b.qs[32] = 0x01;     // element 128: low bits 1
  b.hmask[0] = 0x11;   // high bit set for elements 0 and 128 only
  const auto y = decode(b, q3_k_to_float);
  EXPECT_FLOAT_EQ(y[0], 5.0f * 3);
  EXPECT_FLOAT_EQ(y[32], -32.0f * -4);  // scale 2 all zero bits -> -32; clear high bit -> -4
  EXPECT_FLOAT_EQ(y[128], -13.0f * 1);
  EXPECT_FLOAT_EQ(y[1], 5.0f * -4);
}

TEST(KquantFormat, Q4KHandBuilt) {
  BlockQ4_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = kHalf1;
  b.dmin = kHalf05;
  b.scales[0] = 0x05;  // scale 0 = 5
  b.scales[4] = 0x03;  // min 0 = 3
  b.scales[1] = 0xc2;  // scale 1 = 2; top bits 3 -> bits 4-5 of scale 5
  b.scales[5] = 0x81;  // min 1 = 1; top bits 2 -> bits 4-5 of min 5
  b.scales[9] = 0x3a;  // scale 5 low nibble 10 (-> 58), min 5 low nibble 3 (-> 35)
  b.qs[0] = 0x7a;      // element 0: 10; element 32: 7
  b.qs[64] = 0x90;     // element 128: 0; element 160: 9
  const auto y = decode(b, q4_k_to_float);
  EXPECT_FLOAT_EQ(y[0], 5.0f * 10 - 0.5f * 3);
  EXPECT_FLOAT_EQ(y[32], 2.0f * 7 - 0.5f * 1);
  EXPECT_FLOAT_EQ(y[128], 0.0f);
  EXPECT_FLOAT_EQ(y[160], 58.0f * 9 - 0.5f * 35);
  EXPECT_FLOAT_EQ(y[161], -0.5f * 35);
}

TEST(KquantFormat, Q5KHandBuilt) {
  BlockQ5_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = kHalf1;
  b.dmin = kHalf05;
  b.scales[0] = 0x05;
  b.scales[4] = 0x03;
  b.scales[1] = 0x02;
  b.scales[5] = 0x01;
  b.scales[2] = 0x04;  // scale 2 = 4, min 2 = 0
  b.qs[0] = 0x7a;
  b.qh[0] = 0x06;  // bit 1: element 32 gets +16; bit 2: element 64 gets +16
  const auto y = decode(b, q5_k_to_float);
  EXPECT_FLOAT_EQ(y[0], 5.0f * 10 - 0.5f * 3);
  EXPECT_FLOAT_EQ(y[32], 2.0f * 23 - 0.5f * 1);
  EXPECT_FLOAT_EQ(y[64], 4.0f * 16);
  EXPECT_FLOAT_EQ(y[96], 0.0f);
}

TEST(KquantFormat, Q6KHandBuilt) {
  BlockQ6_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = kHalf2;
  b.scales[0] = -3;
  b.scales[2] = 1;
  b.scales[4] = 7;
  b.scales[6] = -1;
  b.ql[0] = 0x5d;  // element 0 low nibble 13, element 64 low nibble 5
  b.qh[0] = 0x61;  // bits 0-1: 1 (element 0), 2-3: 0 (32), 4-5: 2 (64), 6-7: 1 (96)
  const auto y = decode(b, q6_k_to_float);
  EXPECT_FLOAT_EQ(y[0], 2.0f * -3 * (29 - 32));
  EXPECT_FLOAT_EQ(y[32], 2.0f * 1 * (0 - 32));
  EXPECT_FLOAT_EQ(y[64], 2.0f * 7 * (37 - 32));
  EXPECT_FLOAT_EQ(y[96], 2.0f * -1 * (16 - 32));
}

TEST(KquantFormat, Q8KHandBuilt) {
  BlockQ8_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = 0.25f;
  b.qs[0] = -128;
  b.qs[255] = 127;
  std::vector<float> y(kQK_K);
  q8_k_to_float(&b, y.data(), kQK_K);
  EXPECT_EQ(y[0], -32.0f);
  EXPECT_EQ(y[255], 31.75f);
  EXPECT_EQ(y[1], 0.0f);
}

// ---- Random blocks against the description decoders ------------------------------------------

template <class Block>
void check_random_blocks(void (*to_float)(const void*, float*, int64_t),
                         std::vector<float> (*expected)(const Block&)) {
  std::mt19937 rng(7);
  constexpr int kBlocks = 64;
  std::vector<Block> blocks(kBlocks);
  testing::randomize_rows<Block>(rng, reinterpret_cast<uint8_t*>(blocks.data()), 1, kBlocks,
                                 sizeof(Block) * kBlocks);
  std::vector<float> y(kBlocks * kQK_K);
  to_float(blocks.data(), y.data(), kBlocks * kQK_K);
  for (int b = 0; b < kBlocks; ++b) {
    const auto want = expected(blocks[b]);
    for (int e = 0; e < kQK_K; ++e)
      ASSERT_FLOAT_EQ(y[b * kQK_K + e], want[e]) << "block " << b << " element " << e;
  }
}

std::vector<float> expected_q4_k(const BlockQ4_K& b) {
  return expected_k4(b.qs, nullptr, b.scales, b.d, b.dmin);
}
std::vector<float> expected_q5_k(const BlockQ5_K& b) {
  return expected_k4(b.qs, b.qh, b.scales, b.d, b.dmin);
}

TEST(KquantFormat, Q2KRandomBlocks) {
  check_random_blocks<BlockQ2_K>(q2_k_to_float, expected_q2_k);
}
TEST(KquantFormat, Q3KRandomBlocks) {
  check_random_blocks<BlockQ3_K>(q3_k_to_float, expected_q3_k);
}
TEST(KquantFormat, Q4KRandomBlocks) {
  check_random_blocks<BlockQ4_K>(q4_k_to_float, expected_q4_k);
}
TEST(KquantFormat, Q5KRandomBlocks) {
  check_random_blocks<BlockQ5_K>(q5_k_to_float, expected_q5_k);
}
TEST(KquantFormat, Q6KRandomBlocks) {
  check_random_blocks<BlockQ6_K>(q6_k_to_float, expected_q6_k);
}

// The tables: every K-quant weight type takes Q8_K activations at every level, and every level
// has complete kernels.
TEST(KquantFormat, TablesAreComplete) {
  for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx2, IsaLevel::kAvx512}) {
    for (DType type : testing::kWeightTypes) {
      const TypeOps* ops = kquant_type_ops(type, level);
      ASSERT_NE(ops, nullptr) << dtype_name(type) << " " << isa_level_name(level);
      EXPECT_EQ(ops->type, type);
      EXPECT_EQ(ops->act_type, DType::kQ8_K);
      EXPECT_NE(ops->to_float, nullptr);
      EXPECT_NE(ops->from_float, nullptr);
      EXPECT_NE(ops->gemm, nullptr);
      EXPECT_GE(ops->max_rows, 1);
      EXPECT_GE(ops->max_acts, 1);
    }
    const TypeOps* act = kquant_type_ops(DType::kQ8_K, level);
    ASSERT_NE(act, nullptr);
    EXPECT_NE(act->to_float, nullptr);
    EXPECT_NE(act->from_float, nullptr);
    EXPECT_EQ(kquant_type_ops(DType::kQ4_0, level), nullptr);
  }
  // Through the generic selector too.
  EXPECT_EQ(type_ops(DType::kQ4_K, IsaLevel::kScalar).gemm, q4_k_gemm_ref);
}

}  // namespace
}  // namespace inferd::backend::cpu::kquant
