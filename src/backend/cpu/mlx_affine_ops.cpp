// MLX affine block types (backend/mlx_affine.h): the scalar reference kernels and the table of
// kernels per ISA level. Weights multiply Q8_0 activations (the activation format of the legacy
// GGUF types, legacy_ops.cpp), so that the products are integer dot products on the packed codes.
//
// Reference semantics (what the SIMD kernels must reproduce up to float summation order): a group
// holds kGroup weights s * q[i] + b with unsigned codes q[i]; it meets kGroup / 32 activation
// blocks, block k with scale dx_k (its half scale) and int8 values a[i], and contributes
//   sum over k of  (s * dx_k) * sum(q[i] * a[i]) + b * (dx_k * sum(a[i])),
// both sums exact integers over the block's 32 elements; group results are accumulated in float.
// That is the dot product of the dequantized weights with the Q8_0-dequantized activations,
// rounded a few times per block.
#include <cmath>
#include <cstring>
#include <span>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/mlx_affine_kernels.h"
#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"

namespace inferd::backend::cpu {
namespace {

template <DType kT, int kB, int kG>
struct Type {
  static constexpr DType kType = kT;
  static constexpr int kBits = kB;
  static constexpr int kGroupElems = kG;
  static constexpr size_t kBlockBytes = 8 + kG * kB / 8;
  // Code k (< kGroup) of a block's code bytes.
  static uint32_t code(const uint8_t* q, int k) {
    return mlx_chunk_code(q + (k / 32) * 4 * kBits, kBits, k % 32);
  }
};

using Q4G32 = Type<DType::kMlxQ4G32, 4, 32>;
using Q4G64 = Type<DType::kMlxQ4G64, 4, 64>;
using Q4G128 = Type<DType::kMlxQ4G128, 4, 128>;
using Q8G32 = Type<DType::kMlxQ8G32, 8, 32>;
using Q8G64 = Type<DType::kMlxQ8G64, 8, 64>;
using Q8G128 = Type<DType::kMlxQ8G128, 8, 128>;
using Q2G32 = Type<DType::kMlxQ2G32, 2, 32>;
using Q2G64 = Type<DType::kMlxQ2G64, 2, 64>;
using Q2G128 = Type<DType::kMlxQ2G128, 2, 128>;
using Q3G32 = Type<DType::kMlxQ3G32, 3, 32>;
using Q3G64 = Type<DType::kMlxQ3G64, 3, 64>;
using Q3G128 = Type<DType::kMlxQ3G128, 3, 128>;
using Q5G32 = Type<DType::kMlxQ5G32, 5, 32>;
using Q5G64 = Type<DType::kMlxQ5G64, 5, 64>;
using Q5G128 = Type<DType::kMlxQ5G128, 5, 128>;
using Q6G32 = Type<DType::kMlxQ6G32, 6, 32>;
using Q6G64 = Type<DType::kMlxQ6G64, 6, 64>;
using Q6G128 = Type<DType::kMlxQ6G128, 6, 128>;

float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

template <class T>
void to_float(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / T::kGroupElems; ++b, p += T::kBlockBytes) {
    const float s = load_f32(p), bias = load_f32(p + 4);
    for (int k = 0; k < T::kGroupElems; ++k)
      dst[b * T::kGroupElems + k] = std::fmaf(s, static_cast<float>(T::code(p + 8, k)), bias);
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
  constexpr int kBlocksPerGroup = T::kGroupElems / kQK;
  for (int j = 0; j < num_acts; ++j) {
    const auto* a =
        reinterpret_cast<const BlockQ8_0*>(static_cast<const char*>(act) + j * act_stride);
    for (int i = 0; i < num_rows; ++i) {
      const auto* wr = static_cast<const uint8_t*>(w) + i * w_stride;
      float sum = 0.0f;
      for (int64_t g = 0; g < n / T::kGroupElems; ++g) {
        const uint8_t* block = wr + g * T::kBlockBytes;
        const float s = load_f32(block), bias = load_f32(block + 4);
        float group = 0.0f;
        for (int k = 0; k < kBlocksPerGroup; ++k) {
          const BlockQ8_0& ab = a[g * kBlocksPerGroup + k];
          int32_t dot = 0, asum = 0;
          for (int e = 0; e < kQK; ++e) {
            dot += static_cast<int32_t>(T::code(block + 8, k * kQK + e)) * ab.qs[e];
            asum += ab.qs[e];
          }
          const float dx = f16_to_f32(ab.d);
          group += (s * dx) * static_cast<float>(dot) + bias * (dx * static_cast<float>(asum));
        }
        sum += group;
      }
      out[j * out_stride + i] = sum;
    }
  }
}

template <class T>
constexpr TypeOps reference_ops() {
  return {T::kType, DType::kQ8_0, to_float<T>, from_float<T>, gemm<T>, 4, 4};
}

// Each ISA level keeps the reference codecs and replaces the gemm.
template <class T>
constexpr TypeOps simd_ops(GemmFn* gemm_fn, int max_rows, int max_acts) {
  TypeOps ops = reference_ops<T>();
  ops.gemm = gemm_fn;
  ops.max_rows = max_rows;
  ops.max_acts = max_acts;
  return ops;
}

constexpr TypeOps kScalarOps[] = {
    reference_ops<Q4G32>(), reference_ops<Q4G64>(), reference_ops<Q4G128>(),
    reference_ops<Q8G32>(), reference_ops<Q8G64>(), reference_ops<Q8G128>(),
    reference_ops<Q2G32>(), reference_ops<Q2G64>(), reference_ops<Q2G128>(),
    reference_ops<Q3G32>(), reference_ops<Q3G64>(), reference_ops<Q3G128>(),
    reference_ops<Q5G32>(), reference_ops<Q5G64>(), reference_ops<Q5G128>(),
    reference_ops<Q6G32>(), reference_ops<Q6G64>(), reference_ops<Q6G128>(),
};

template <typename T>
constexpr TypeOps avx2_ops() {
  return simd_ops<T>(avx2::gemm_mlx<T::kBits, T::kGroupElems>, avx2::kMlxMaxRows,
                     avx2::kMlxMaxActs);
}
template <typename T>
constexpr TypeOps avx512_ops() {
  return simd_ops<T>(avx512::gemm_mlx<T::kBits, T::kGroupElems>, avx512::kMlxMaxRows,
                     avx512::kMlxMaxActs);
}

constexpr TypeOps kAvx2Ops[] = {
    avx2_ops<Q4G32>(),  avx2_ops<Q4G64>(),  avx2_ops<Q4G128>(), avx2_ops<Q8G32>(),
    avx2_ops<Q8G64>(),  avx2_ops<Q8G128>(), avx2_ops<Q2G32>(),  avx2_ops<Q2G64>(),
    avx2_ops<Q2G128>(), avx2_ops<Q3G32>(),  avx2_ops<Q3G64>(),  avx2_ops<Q3G128>(),
    avx2_ops<Q5G32>(),  avx2_ops<Q5G64>(),  avx2_ops<Q5G128>(), avx2_ops<Q6G32>(),
    avx2_ops<Q6G64>(),  avx2_ops<Q6G128>(),
};

constexpr TypeOps kAvx512Ops[] = {
    avx512_ops<Q4G32>(),  avx512_ops<Q4G64>(),  avx512_ops<Q4G128>(), avx512_ops<Q8G32>(),
    avx512_ops<Q8G64>(),  avx512_ops<Q8G128>(), avx512_ops<Q2G32>(),  avx512_ops<Q2G64>(),
    avx512_ops<Q2G128>(), avx512_ops<Q3G32>(),  avx512_ops<Q3G64>(),  avx512_ops<Q3G128>(),
    avx512_ops<Q5G32>(),  avx512_ops<Q5G64>(),  avx512_ops<Q5G128>(), avx512_ops<Q6G32>(),
    avx512_ops<Q6G64>(),  avx512_ops<Q6G128>(),
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
