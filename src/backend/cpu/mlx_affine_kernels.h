// SIMD kernels of the MLX affine block types (mlx_affine_ops_avx2.cpp, mlx_affine_ops_avx512.cpp).
// Each gemm multiplies blocks of its type with Q8_0 activations (see TypeOps::gemm) by integer dot
// products on the packed codes, and agrees with the scalar reference in mlx_affine_ops.cpp up to
// float summation order. REQUIRES the CPU to support the file's ISA level (callers go through
// mlx_affine_type_ops).
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/cpu/kernel_fns.h"

// Instantiates an ISA file's gemm_mlx template for every kMlx* type (in that file's namespace).
// clang-format off
#define INFERD_MLX_GEMM_INSTANCE(bits, group) \
  template void gemm_mlx<bits, group>(int64_t, const void*, size_t, int, const void*, size_t, int, float*, size_t);
#define INFERD_MLX_GEMM_GROUPS(bits) \
  INFERD_MLX_GEMM_INSTANCE(bits, 32) INFERD_MLX_GEMM_INSTANCE(bits, 64) INFERD_MLX_GEMM_INSTANCE(bits, 128)
#define INFERD_MLX_GEMM_INSTANCES \
  INFERD_MLX_GEMM_GROUPS(2) INFERD_MLX_GEMM_GROUPS(3) INFERD_MLX_GEMM_GROUPS(4) \
  INFERD_MLX_GEMM_GROUPS(5) INFERD_MLX_GEMM_GROUPS(6) INFERD_MLX_GEMM_GROUPS(8)
// clang-format on

namespace inferd::backend::cpu::avx2 {

// Tile limits of the AVX2 gemm kernels.
constexpr int kMlxMaxRows = 4;
constexpr int kMlxMaxActs = 2;
// The gemm of the kMlx* type with these bits and group size (instantiated for bits 2, 3, 4,
// 5, 6, 8 and groups 32, 64, 128: INFERD_MLX_GEMM_INSTANCES).
template <int kBits, int kGroup>
void gemm_mlx(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
              size_t act_stride, int num_acts, float* out, size_t out_stride);

}  // namespace inferd::backend::cpu::avx2

namespace inferd::backend::cpu::avx512 {

// Tile limits of the AVX-512 gemm kernels.
constexpr int kMlxMaxRows = 8;
constexpr int kMlxMaxActs = 3;
// The gemm of the kMlx* type with these bits and group size (instantiated for bits 2, 3, 4,
// 5, 6, 8 and groups 32, 64, 128: INFERD_MLX_GEMM_INSTANCES).
template <int kBits, int kGroup>
void gemm_mlx(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
              size_t act_stride, int num_acts, float* out, size_t out_stride);

}  // namespace inferd::backend::cpu::avx512
