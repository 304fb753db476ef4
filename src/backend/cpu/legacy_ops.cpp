// Legacy quantized types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0): the scalar reference kernels and the
// table of kernels per ISA level. Every legacy weight type multiplies Q8_0 activations.
//
// Reference semantics (what the SIMD kernels must reproduce up to float summation order):
// a block holds 32 values d * q[i] + m with small integers q[i] (m = 0 for the _0 types); the
// dot product of a weight block with a Q8_0 activation block (scale da, values a[i]) is
//   d * da * sum(q[i] * a[i]) + m * da * sum(a[i]),
// with both sums computed exactly in integers, and blocks accumulated in float.
#include <cmath>
#include <cstring>
#include <span>

#include "backend/cpu/blocks.h"
#include "backend/cpu/legacy_kernels.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu {
namespace {

// Rounds v to the nearest integer in [lo, hi] (ties to even); NaN becomes lo.
int quantize_value(float v, int lo, int hi) {
  v = v > static_cast<float>(lo) ? v : static_cast<float>(lo);
  v = v < static_cast<float>(hi) ? v : static_cast<float>(hi);
  return static_cast<int>(std::nearbyint(v));
}

// The element of largest magnitude, with its sign (0 for an all-zero or all-NaN block).
float signed_absmax(const float* x) {
  float amax = 0.0f, v = 0.0f;
  for (int i = 0; i < kQK; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      v = x[i];
    }
  }
  return v;
}

void min_max(const float* x, float* lo, float* hi) {
  float mn = INFINITY, mx = -INFINITY;
  for (int i = 0; i < kQK; ++i) {
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  if (!(mn <= mx)) mn = mx = 0.0f;  // all NaN
  *lo = mn;
  *hi = mx;
}

// Stores scale `d` as half and returns the inverse of the stored value (0 when it is 0), so
// that quantized values are relative to the scale a reader will see.
float store_scale(float d, f16_t* out) {
  *out = f32_to_f16(d);
  const float stored = f16_to_f32(*out);
  return stored != 0.0f && std::isfinite(stored) ? 1.0f / stored : 0.0f;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Per-type block codecs: unpack() gives the block as d * q[i] + m; pack() quantizes 32 floats
// to the nearest representable values for the block's scale (and min).
struct Q4_0 {
  using Block = BlockQ4_0;
  static constexpr DType kType = DType::kQ4_0;
  static constexpr bool kHasMin = false;
  static void unpack(const Block& b, int8_t* q, float* d, float* m) {
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = static_cast<int8_t>((b.qs[j] & 15) - 8);
      q[j + kQK / 2] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
    }
    *d = f16_to_f32(b.d);
    *m = 0.0f;
  }
  static void pack(const float* x, Block* b) {
    // The extreme value maps to -8, the end of the range with the larger magnitude.
    const float id = store_scale(signed_absmax(x) / -8.0f, &b->d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = quantize_value(x[j] * id, -8, 7) + 8;
      const int hi = quantize_value(x[j + kQK / 2] * id, -8, 7) + 8;
      b->qs[j] = static_cast<uint8_t>(lo | hi << 4);
    }
  }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  static constexpr DType kType = DType::kQ4_1;
  static constexpr bool kHasMin = true;
  static void unpack(const Block& b, int8_t* q, float* d, float* m) {
    for (int j = 0; j < kQK / 2; ++j) {
      q[j] = static_cast<int8_t>(b.qs[j] & 15);
      q[j + kQK / 2] = static_cast<int8_t>(b.qs[j] >> 4);
    }
    *d = f16_to_f32(b.d);
    *m = f16_to_f32(b.m);
  }
  static void pack(const float* x, Block* b) {
    float lo, hi;
    min_max(x, &lo, &hi);
    const float id = store_scale((hi - lo) / 15.0f, &b->d);
    b->m = f32_to_f16(lo);
    const float m = f16_to_f32(b->m);
    for (int j = 0; j < kQK / 2; ++j) {
      const int q0 = quantize_value((x[j] - m) * id, 0, 15);
      const int q1 = quantize_value((x[j + kQK / 2] - m) * id, 0, 15);
      b->qs[j] = static_cast<uint8_t>(q0 | q1 << 4);
    }
  }
};

// 5-bit values: low 4 bits in qs as for Q4, bit 4 of element i in bit i of qh.
void unpack5(const uint8_t* qs, const uint8_t* qh_bytes, int offset, int8_t* q) {
  const uint32_t qh = load_u32(qh_bytes);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = static_cast<int8_t>(((qs[j] & 15) | ((qh >> j) & 1) << 4) - offset);
    q[j + 16] = static_cast<int8_t>(((qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - offset);
  }
}

void pack5(const int* q, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 15) | (q[j + 16] & 15) << 4);
    qh |= static_cast<uint32_t>(q[j] >> 4) << j | static_cast<uint32_t>(q[j + 16] >> 4) << (j + 16);
  }
  std::memcpy(qh_bytes, &qh, 4);
}

struct Q5_0 {
  using Block = BlockQ5_0;
  static constexpr DType kType = DType::kQ5_0;
  static constexpr bool kHasMin = false;
  static void unpack(const Block& b, int8_t* q, float* d, float* m) {
    unpack5(b.qs, b.qh, 16, q);
    *d = f16_to_f32(b.d);
    *m = 0.0f;
  }
  static void pack(const float* x, Block* b) {
    const float id = store_scale(signed_absmax(x) / -16.0f, &b->d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = quantize_value(x[j] * id, -16, 15) + 16;
    pack5(q, b->qs, b->qh);
  }
};

struct Q5_1 {
  using Block = BlockQ5_1;
  static constexpr DType kType = DType::kQ5_1;
  static constexpr bool kHasMin = true;
  static void unpack(const Block& b, int8_t* q, float* d, float* m) {
    unpack5(b.qs, b.qh, 0, q);
    *d = f16_to_f32(b.d);
    *m = f16_to_f32(b.m);
  }
  static void pack(const float* x, Block* b) {
    float lo, hi;
    min_max(x, &lo, &hi);
    const float id = store_scale((hi - lo) / 31.0f, &b->d);
    b->m = f32_to_f16(lo);
    const float m = f16_to_f32(b->m);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = quantize_value((x[j] - m) * id, 0, 31);
    pack5(q, b->qs, b->qh);
  }
};

struct Q8_0 {
  using Block = BlockQ8_0;
  static constexpr DType kType = DType::kQ8_0;
  static constexpr bool kHasMin = false;
  static void unpack(const Block& b, int8_t* q, float* d, float* m) {
    std::memcpy(q, b.qs, kQK);
    *d = f16_to_f32(b.d);
    *m = 0.0f;
  }
  static void pack(const float* x, Block* b) {
    // Symmetric range [-127, 127], so that negating a value never overflows. The values are
    // scaled by 127 / amax (not by the inverse of the half-rounded scale), the convention of
    // the reference implementation of GGUF models: activations quantized alike keep logits
    // within a few hundredths of it.
    const float amax = std::fabs(signed_absmax(x));
    store_scale(amax / 127.0f, &b->d);
    const float id = amax > 0.0f && std::isfinite(amax) ? 127.0f / amax : 0.0f;
    for (int j = 0; j < kQK; ++j)
      b->qs[j] = static_cast<int8_t>(quantize_value(x[j] * id, -127, 127));
  }
};

template <class T>
void to_float(const void* src, float* dst, int64_t n) {
  const auto* blocks = static_cast<const typename T::Block*>(src);
  int8_t q[kQK];
  float d, m;
  for (int64_t i = 0; i < n / kQK; ++i) {
    T::unpack(blocks[i], q, &d, &m);
    for (int j = 0; j < kQK; ++j) dst[i * kQK + j] = d * q[j] + m;
  }
}

template <class T>
void from_float(const float* src, void* dst, int64_t n) {
  auto* blocks = static_cast<typename T::Block*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i) T::pack(src + i * kQK, &blocks[i]);
}

template <class T>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  const int64_t num_blocks = n / kQK;
  int8_t q[kQK];
  float d, m;
  for (int j = 0; j < num_acts; ++j) {
    const auto* a =
        reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(act) + j * act_stride);
    for (int i = 0; i < num_rows; ++i) {
      const auto* wb =
          reinterpret_cast<const typename T::Block*>(static_cast<const char*>(w) + i * w_stride);
      float sum = 0.0f;
      for (int64_t b = 0; b < num_blocks; ++b) {
        T::unpack(wb[b], q, &d, &m);
        int32_t qa = 0, sa = 0;
        for (int k = 0; k < kQK; ++k) {
          qa += q[k] * a[b].qs[k];
          sa += a[b].qs[k];
        }
        const float da = f16_to_f32(a[b].d);
        sum += d * da * static_cast<float>(qa);
        if (T::kHasMin) sum += m * da * static_cast<float>(sa);
      }
      out[j * out_stride + i] = sum;
    }
  }
}

template <class T>
constexpr TypeOps reference_ops() {
  return {T::kType, DType::kQ8_0, to_float<T>, from_float<T>, gemm<T>, 4, 4};
}

// Each ISA level keeps the reference codecs and replaces the gemm; Q8_0's from_float also
// quantizes every activation, so it has a fast version too.
template <class T>
constexpr TypeOps simd_ops(GemmFn* gemm_fn, FromFloatFn* quantize, int max_rows, int max_acts) {
  TypeOps ops = reference_ops<T>();
  if (quantize) ops.from_float = quantize;
  ops.gemm = gemm_fn;
  ops.max_rows = max_rows;
  ops.max_acts = max_acts;
  return ops;
}

constexpr TypeOps kScalarOps[] = {
    reference_ops<Q4_0>(), reference_ops<Q4_1>(), reference_ops<Q5_0>(),
    reference_ops<Q5_1>(), reference_ops<Q8_0>(),
};

const TypeOps kAvx2Ops[] = {
    simd_ops<Q4_0>(avx2::gemm_q4_0, nullptr, avx2::kLegacyMaxRows, avx2::kLegacyMaxActs),
    simd_ops<Q4_1>(avx2::gemm_q4_1, nullptr, avx2::kLegacyMaxRows, avx2::kLegacyMaxActs),
    simd_ops<Q5_0>(avx2::gemm_q5_0, nullptr, avx2::kLegacyMaxRows, avx2::kLegacyMaxActs),
    simd_ops<Q5_1>(avx2::gemm_q5_1, nullptr, avx2::kLegacyMaxRows, avx2::kLegacyMaxActs),
    simd_ops<Q8_0>(avx2::gemm_q8_0, avx2::quantize_q8_0, avx2::kLegacyMaxRows,
                   avx2::kLegacyMaxActs),
};

const TypeOps kAvx512Ops[] = {
    simd_ops<Q4_0>(avx512::gemm_q4_0, nullptr, avx512::kLegacyMaxRows, avx512::kLegacyMaxActs),
    simd_ops<Q4_1>(avx512::gemm_q4_1, nullptr, avx512::kLegacyMaxRows, avx512::kLegacyMaxActs),
    simd_ops<Q5_0>(avx512::gemm_q5_0, nullptr, avx512::kLegacyMaxRows, avx512::kLegacyMaxActs),
    simd_ops<Q5_1>(avx512::gemm_q5_1, nullptr, avx512::kLegacyMaxRows, avx512::kLegacyMaxActs),
    simd_ops<Q8_0>(avx512::gemm_q8_0, avx512::quantize_q8_0, avx512::kLegacyMaxRows,
                   avx512::kLegacyMaxActs),
};

// Indexed by IsaLevel.
const std::span<const TypeOps> kTables[] = {kScalarOps, kAvx2Ops, kAvx512Ops};

}  // namespace

const TypeOps* legacy_type_ops(DType type, IsaLevel level) {
  for (const TypeOps& ops : kTables[static_cast<int>(level)])
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace inferd::backend::cpu
