// TypeOps: the kernels of one tensor type at one ISA level, and the table that selects them.
//
// Every computable DType has a scalar reference (IsaLevel::kScalar) against which the AVX2 and
// AVX-512 versions are tested. A weight row is multiplied with activations that were first
// converted to `act_type` (for example Q8_0 for Q4_0 weights, Q8_K for K-quants): integer dot
// products on int8 activations are what make quantized matmul fast.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/dtype.h"
#include "base/cpu_features.h"

namespace inferd::backend::cpu {

struct TypeOps {
  DType type = DType::kF32;
  // Format the activations must be in for gemm().
  DType act_type = DType::kF32;
  // Dequantizes n elements (n a multiple of the block size).
  void (*to_float)(const void* src, float* dst, int64_t n) = nullptr;
  // Quantizes n elements into this type (round to nearest, no importance weighting).
  void (*from_float)(const float* src, void* dst, int64_t n) = nullptr;
  // Tile product: for i < num_rows, j < num_acts
  //   out[j * out_stride + i] = dot(weight row i, activation row j) over n elements,
  // where weight row i starts at (const char*)w + i * w_stride and activation row j (in
  // act_type) at (const char*)act + j * act_stride. REQUIRES 1 <= num_rows <= max_rows,
  // 1 <= num_acts <= max_acts, n a multiple of both types' block sizes.
  void (*gemm)(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
               size_t act_stride, int num_acts, float* out, size_t out_stride) = nullptr;
  int max_rows = 1;
  int max_acts = 1;
};

// Best kernels for `type` at `level` or below (falls back to lower levels entry by entry).
// REQUIRES dtype_info(type).computable, or type is an activation type (Q8_0, Q8_K, F32, F16).
const TypeOps& type_ops(DType type, IsaLevel level = cpu_features().level);

// Per-family tables, one file each; nullptr when the family has no kernel at that exact level.
const TypeOps* float_type_ops(DType type, IsaLevel level);   // F32, F16, BF16
const TypeOps* legacy_type_ops(DType type, IsaLevel level);  // Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
const TypeOps* kquant_type_ops(DType type, IsaLevel level);  // Q2_K .. Q6_K, Q8_K
const TypeOps* mlx_affine_type_ops(DType type, IsaLevel level);  // kMlx* (mlx_affine.h)

}  // namespace inferd::backend::cpu
