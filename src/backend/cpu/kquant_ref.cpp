// Scalar reference of the K-quant family: decoding to the integer form, to_float, the Q8_K
// activation quantizer and the gemm every faster level is tested against.
#include "backend/cpu/kquant_ref.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/kquant_scales.h"

namespace inferd::backend::cpu::kquant {

// Q2_K: scales[g] low nibble = scale, high nibble = min of group g. Element e = 128h + 32j + l
// (h < 2, j < 4, l < 32) is bits 2j..2j+1 of qs[32h + l]; its group is e / 16.
void unpack_ints(const BlockQ2_K& b, KBlockInts* out) {
  out->d = f16_to_f32(b.d);
  out->dm = f16_to_f32(b.dmin);
  for (int g = 0; g < 16; ++g) {
    out->sc[g] = b.scales[g] & 15;
    out->m[g] = b.scales[g] >> 4;
  }
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    out->q[e] = static_cast<int8_t>((b.qs[32 * h + l] >> (2 * j)) & 3);
  }
}

// Q3_K: element e = 128h + 32j + l has low bits 2j..2j+1 of qs[32h + l]; bit 4h + j of hmask[l]
// clear means "subtract 4". Scales are biased by 32.
void unpack_ints(const BlockQ3_K& b, KBlockInts* out) {
  out->d = f16_to_f32(b.d);
  out->dm = 0;
  uint64_t lo, hi;
  unpack_q3_k_scales(b.scales, &lo, &hi);
  for (int g = 0; g < 8; ++g) {
    out->sc[g] = static_cast<int16_t>(((lo >> (8 * g)) & 0xff) - 32);
    out->sc[g + 8] = static_cast<int16_t>(((hi >> (8 * g)) & 0xff) - 32);
  }
  std::memset(out->m, 0, sizeof(out->m));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    const int low = (b.qs[32 * h + l] >> (2 * j)) & 3;
    const int high_set = (b.hmask[l] >> (4 * h + j)) & 1;
    out->q[e] = static_cast<int8_t>(low - (high_set ? 0 : 4));
  }
}

// Q4_K: element e = 64j + 32t + l is the low (t = 0) or high (t = 1) nibble of qs[32j + l];
// sub-block (of 32) 2j + t.
void unpack_ints(const BlockQ4_K& b, KBlockInts* out) {
  out->d = f16_to_f32(b.d);
  out->dm = f16_to_f32(b.dmin);
  uint64_t scales, mins;
  unpack_k4_scales(b.scales, &scales, &mins);
  for (int g = 0; g < 16; ++g) {
    out->sc[g] = static_cast<int16_t>((scales >> (8 * (g / 2))) & 0xff);
    out->m[g] = static_cast<int16_t>((mins >> (8 * (g / 2))) & 0xff);
  }
  for (int e = 0; e < kQK_K; ++e) {
    const int j = e / 64, t = (e % 64) / 32, l = e % 32;
    out->q[e] = static_cast<int8_t>((b.qs[32 * j + l] >> (4 * t)) & 15);
  }
}

// Q5_K: as Q4_K, plus bit 2j + t of qh[l] as the value's bit 4.
void unpack_ints(const BlockQ5_K& b, KBlockInts* out) {
  out->d = f16_to_f32(b.d);
  out->dm = f16_to_f32(b.dmin);
  uint64_t scales, mins;
  unpack_k4_scales(b.scales, &scales, &mins);
  for (int g = 0; g < 16; ++g) {
    out->sc[g] = static_cast<int16_t>((scales >> (8 * (g / 2))) & 0xff);
    out->m[g] = static_cast<int16_t>((mins >> (8 * (g / 2))) & 0xff);
  }
  for (int e = 0; e < kQK_K; ++e) {
    const int j = e / 64, t = (e % 64) / 32, l = e % 32;
    const int low = (b.qs[32 * j + l] >> (4 * t)) & 15;
    const int high = (b.qh[l] >> (2 * j + t)) & 1;
    out->q[e] = static_cast<int8_t>(low | (high << 4));
  }
}

// Q6_K: element e = 128h + 32k + l (k < 4) has its low nibble in ql[64h + 32(k % 2) + l] (low
// nibble for k < 2, high for k >= 2) and bits 4..5 in bits 2k..2k+1 of qh[32h + l]; value - 32.
void unpack_ints(const BlockQ6_K& b, KBlockInts* out) {
  out->d = f16_to_f32(b.d);
  out->dm = 0;
  for (int g = 0; g < 16; ++g) out->sc[g] = b.scales[g];
  std::memset(out->m, 0, sizeof(out->m));
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const int low = (b.ql[64 * h + 32 * (k % 2) + l] >> (4 * (k / 2))) & 15;
    const int high = (b.qh[32 * h + l] >> (2 * k)) & 3;
    out->q[e] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

namespace {

template <class Block>
void to_float_ref(const void* src, float* dst, int64_t n) {
  const Block* blocks = static_cast<const Block*>(src);
  KBlockInts u;
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    unpack_ints(blocks[b], &u);
    float* y = dst + b * kQK_K;
    for (int e = 0; e < kQK_K; ++e)
      y[e] = u.d * static_cast<float>(u.sc[e / 16]) * static_cast<float>(u.q[e]) -
             u.dm * static_cast<float>(u.m[e / 16]);
  }
}

// One row at a time; each decoded block is used for every activation row.
template <class Block>
void gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
              size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const int64_t num_blocks = n / kQK_K;
  KBlockInts u;
  for (int i = 0; i < num_rows; ++i) {
    const Block* wb = reinterpret_cast<const Block*>(static_cast<const char*>(w) + i * w_stride);
    float sums[kRefMaxActs] = {};
    for (int64_t b = 0; b < num_blocks; ++b) {
      unpack_ints(wb[b], &u);
      for (int j = 0; j < num_acts; ++j) {
        const BlockQ8_K& x =
            reinterpret_cast<const BlockQ8_K*>(static_cast<const char*>(act) + j * act_stride)[b];
        int32_t isum = 0, msum = 0;
        for (int g = 0; g < 16; ++g) {
          int32_t gsum = 0;
          for (int e = 16 * g; e < 16 * g + 16; ++e) gsum += u.q[e] * x.qs[e];
          isum += u.sc[g] * gsum;
          msum += u.m[g] * x.bsums[g];
        }
        sums[j] += x.d * (u.d * static_cast<float>(isum) - u.dm * static_cast<float>(msum));
      }
    }
    for (int j = 0; j < num_acts; ++j) out[j * out_stride + i] = sums[j];
  }
}

}  // namespace

void q2_k_to_float(const void* src, float* dst, int64_t n) {
  to_float_ref<BlockQ2_K>(src, dst, n);
}
void q3_k_to_float(const void* src, float* dst, int64_t n) {
  to_float_ref<BlockQ3_K>(src, dst, n);
}
void q4_k_to_float(const void* src, float* dst, int64_t n) {
  to_float_ref<BlockQ4_K>(src, dst, n);
}
void q5_k_to_float(const void* src, float* dst, int64_t n) {
  to_float_ref<BlockQ5_K>(src, dst, n);
}
void q6_k_to_float(const void* src, float* dst, int64_t n) {
  to_float_ref<BlockQ6_K>(src, dst, n);
}

void q8_k_to_float(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* blocks = static_cast<const BlockQ8_K*>(src);
  for (int64_t b = 0; b < n / kQK_K; ++b)
    for (int e = 0; e < kQK_K; ++e)
      dst[b * kQK_K + e] = blocks[b].d * static_cast<float>(blocks[b].qs[e]);
}

// d = amax / 127 and q = round-half-even(clamp(x * 127 / amax, -127, 127)); an all-zero block has
// d = 0. NaN inputs never make amax NaN and quantize to -127 (the SIMD versions match bit for bit).
void q8_k_from_float(const float* src, void* dst, int64_t n) {
  BlockQ8_K* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* x = src + b * kQK_K;
    BlockQ8_K& y = blocks[b];
    float amax = 0;
    for (int e = 0; e < kQK_K; ++e) {
      const float a = x[e] < 0 ? -x[e] : x[e];
      amax = a > amax ? a : amax;
    }
    if (amax == 0) {
      y.d = 0;
      std::memset(y.qs, 0, sizeof(y.qs));
      std::memset(y.bsums, 0, sizeof(y.bsums));
      continue;
    }
    const float iscale = 127.0f / amax;
    y.d = amax / 127.0f;
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int e = 16 * g; e < 16 * g + 16; ++e) {
        float v = x[e] * iscale;
        v = v > -127.0f ? v : -127.0f;
        v = v < 127.0f ? v : 127.0f;
        const int q = static_cast<int>(std::nearbyint(v));
        y.qs[e] = static_cast<int8_t>(q);
        sum += q;
      }
      y.bsums[g] = static_cast<int16_t>(sum);
    }
  }
}

void q2_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm_ref<BlockQ2_K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q3_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm_ref<BlockQ3_K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q4_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm_ref<BlockQ4_K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q5_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm_ref<BlockQ5_K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}
void q6_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride) {
  gemm_ref<BlockQ6_K>(n, w, w_stride, num_rows, act, act_stride, num_acts, out, out_stride);
}

}  // namespace inferd::backend::cpu::kquant
