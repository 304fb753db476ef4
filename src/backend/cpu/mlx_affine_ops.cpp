// MLX affine block types (backend/mlx_affine.h): the scalar reference kernels and the table of
// kernels per ISA level. Weights are dequantized element by element as fmaf(s, q, b) and multiply
// F32 activations; the reference accumulates each dot product in float, in element order.
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "backend/cpu/mlx_affine_kernels.h"
#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"

namespace inferd::backend::cpu {
namespace {

template <int kBits, int kGroup>
struct Mlx {
  static constexpr size_t kBlockBytes = 8 + kGroup * kBits / 8;
  // Code k (< kGroup) of a block's code bytes.
  static uint32_t code(const uint8_t* q, int k) {
    if constexpr (kBits == 8) {
      return q[k];
    } else {
      const int c = k / 32, j = k % 32;
      const uint8_t byte = q[c * 16 + (j % 16)];
      return j < 16 ? byte & 15u : byte >> 4;
    }
  }
};

template <class T>
void to_float(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / T::kGroupElems; ++b, p += T::Spec::kBlockBytes) {
    float s, bias;
    std::memcpy(&s, p, 4);
    std::memcpy(&bias, p + 4, 4);
    for (int k = 0; k < T::kGroupElems; ++k)
      dst[b * T::kGroupElems + k] = std::fmaf(s, static_cast<float>(T::Spec::code(p + 8, k)), bias);
  }
}

template <class T>
void from_float(const float* src, void* dst, int64_t n) {
  const MlxAffineSpec spec{T::kBits, T::kGroupElems};
  std::vector<uint8_t> codes(static_cast<size_t>(n * T::kBits / 8));
  std::vector<float> scales(n / T::kGroupElems), biases(n / T::kGroupElems);
  mlx_quantize_row(
      src, n, spec, [](float v) { return v; }, codes.data(), scales.data(), biases.data());
  mlx_pack_row(codes.data(), T::kBits, scales.data(), biases.data(), n, T::kType, dst);
}

template <class T>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  float group[T::kGroupElems];
  for (int i = 0; i < num_rows; ++i) {
    const auto* wr = static_cast<const uint8_t*>(w) + i * w_stride;
    for (int j = 0; j < num_acts; ++j) {
      const auto* a =
          reinterpret_cast<const float*>(static_cast<const char*>(act) + j * act_stride);
      float sum = 0.0f;
      for (int64_t b = 0; b < n / T::kGroupElems; ++b) {
        to_float<T>(wr + b * T::Spec::kBlockBytes, group, T::kGroupElems);
        for (int k = 0; k < T::kGroupElems; ++k) sum += group[k] * a[b * T::kGroupElems + k];
      }
      out[j * out_stride + i] = sum;
    }
  }
}

template <DType kT, int kB, int kG>
struct Type {
  using Spec = Mlx<kB, kG>;
  static constexpr DType kType = kT;
  static constexpr int kBits = kB;
  static constexpr int kGroupElems = kG;
};

using Q4G32 = Type<DType::kMlxQ4G32, 4, 32>;
using Q4G64 = Type<DType::kMlxQ4G64, 4, 64>;
using Q4G128 = Type<DType::kMlxQ4G128, 4, 128>;
using Q8G32 = Type<DType::kMlxQ8G32, 8, 32>;
using Q8G64 = Type<DType::kMlxQ8G64, 8, 64>;
using Q8G128 = Type<DType::kMlxQ8G128, 8, 128>;

template <class T>
constexpr TypeOps reference_ops() {
  return {T::kType, DType::kF32, to_float<T>, from_float<T>, gemm<T>, 4, 4};
}

template <class T>
constexpr TypeOps simd_ops(GemmFn* gemm_fn, int max_rows, int max_acts) {
  return {T::kType, DType::kF32, to_float<T>, from_float<T>, gemm_fn, max_rows, max_acts};
}

constexpr TypeOps kScalarOps[] = {reference_ops<Q4G32>(),  reference_ops<Q4G64>(),
                                  reference_ops<Q4G128>(), reference_ops<Q8G32>(),
                                  reference_ops<Q8G64>(),  reference_ops<Q8G128>()};

constexpr TypeOps kAvx2Ops[] = {
    simd_ops<Q4G32>(avx2::gemm_mlx_q4_g32, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
    simd_ops<Q4G64>(avx2::gemm_mlx_q4_g64, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
    simd_ops<Q4G128>(avx2::gemm_mlx_q4_g128, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
    simd_ops<Q8G32>(avx2::gemm_mlx_q8_g32, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
    simd_ops<Q8G64>(avx2::gemm_mlx_q8_g64, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
    simd_ops<Q8G128>(avx2::gemm_mlx_q8_g128, avx2::kMlxMaxRows, avx2::kMlxMaxActs),
};

constexpr TypeOps kAvx512Ops[] = {
    simd_ops<Q4G32>(avx512::gemm_mlx_q4_g32, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
    simd_ops<Q4G64>(avx512::gemm_mlx_q4_g64, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
    simd_ops<Q4G128>(avx512::gemm_mlx_q4_g128, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
    simd_ops<Q8G32>(avx512::gemm_mlx_q8_g32, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
    simd_ops<Q8G64>(avx512::gemm_mlx_q8_g64, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
    simd_ops<Q8G128>(avx512::gemm_mlx_q8_g128, avx512::kMlxMaxRows, avx512::kMlxMaxActs),
};

// Indexed by IsaLevel.
const std::span<const TypeOps> kTables[] = {kScalarOps, kAvx2Ops, kAvx512Ops};

}  // namespace

const TypeOps* mlx_affine_type_ops(DType type, IsaLevel level) {
  for (const TypeOps& ops : kTables[static_cast<int>(level)])
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace inferd::backend::cpu
