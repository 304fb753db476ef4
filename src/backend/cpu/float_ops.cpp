// Float weight types (F32, F16, BF16): the scalar reference kernels and the table of kernels per
// ISA level. Float weights multiply F32 activations; the reference accumulates each dot product
// in float, element by element.
#include <cstring>
#include <span>

#include "backend/cpu/float_kernels.h"
#include "backend/cpu/type_ops.h"
#include "base/half.h"

namespace inferd::backend::cpu {
namespace {

struct F32 {
  using Elem = float;
  static constexpr DType kType = DType::kF32;
  static float load(float v) { return v; }
  static float store(float v) { return v; }
};
struct F16 {
  using Elem = f16_t;
  static constexpr DType kType = DType::kF16;
  static float load(f16_t v) { return f16_to_f32(v); }
  static f16_t store(float v) { return f32_to_f16(v); }
};
struct BF16 {
  using Elem = bf16_t;
  static constexpr DType kType = DType::kBF16;
  static float load(bf16_t v) { return bf16_to_f32(v); }
  static bf16_t store(float v) { return f32_to_bf16(v); }
};

template <class T>
void to_float(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const typename T::Elem*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = T::load(s[i]);
}

template <class T>
void from_float(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<typename T::Elem*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = T::store(src[i]);
}

template <class T>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  for (int j = 0; j < num_acts; ++j) {
    const auto* a = reinterpret_cast<const float*>(static_cast<const char*>(act) + j * act_stride);
    for (int i = 0; i < num_rows; ++i) {
      const auto* wr =
          reinterpret_cast<const typename T::Elem*>(static_cast<const char*>(w) + i * w_stride);
      float sum = 0.0f;
      for (int64_t k = 0; k < n; ++k) sum += T::load(wr[k]) * a[k];
      out[j * out_stride + i] = sum;
    }
  }
}

template <class T>
constexpr TypeOps reference_ops() {
  return {T::kType, DType::kF32, to_float<T>, from_float<T>, gemm<T>, 4, 4};
}

constexpr TypeOps kScalarOps[] = {reference_ops<F32>(), reference_ops<F16>(),
                                  reference_ops<BF16>()};

// The SIMD levels keep the reference codecs except F16's, which also converts activations.
constexpr TypeOps simd_ops(DType type, ToFloatFn* to, FromFloatFn* from, GemmFn* gemm_fn,
                           int max_rows, int max_acts) {
  return {type, DType::kF32, to, from, gemm_fn, max_rows, max_acts};
}

constexpr TypeOps kAvx2Ops[] = {
    simd_ops(DType::kF32, to_float<F32>, from_float<F32>, avx2::gemm_f32, avx2::kFloatMaxRows,
             avx2::kFloatMaxActs),
    simd_ops(DType::kF16, avx2::f16_to_float, avx2::f16_from_float, avx2::gemm_f16,
             avx2::kFloatMaxRows, avx2::kFloatMaxActs),
    simd_ops(DType::kBF16, to_float<BF16>, from_float<BF16>, avx2::gemm_bf16, avx2::kFloatMaxRows,
             avx2::kFloatMaxActs),
};

constexpr TypeOps kAvx512Ops[] = {
    simd_ops(DType::kF32, to_float<F32>, from_float<F32>, avx512::gemm_f32, avx512::kFloatMaxRows,
             avx512::kFloatMaxActs),
    simd_ops(DType::kF16, avx512::f16_to_float, avx512::f16_from_float, avx512::gemm_f16,
             avx512::kFloatMaxRows, avx512::kFloatMaxActs),
    simd_ops(DType::kBF16, to_float<BF16>, from_float<BF16>, avx512::gemm_bf16,
             avx512::kFloatMaxRows, avx512::kFloatMaxActs),
};

// Indexed by IsaLevel.
const std::span<const TypeOps> kTables[] = {kScalarOps, kAvx2Ops, kAvx512Ops};

}  // namespace

const TypeOps* float_type_ops(DType type, IsaLevel level) {
  for (const TypeOps& ops : kTables[static_cast<int>(level)])
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace inferd::backend::cpu
