// SIMD kernels of the MLX affine block types (mlx_affine_ops_avx2.cpp, mlx_affine_ops_avx512.cpp).
// Each gemm multiplies blocks of its type with Q8_0 activations (see TypeOps::gemm) by integer dot
// products on the packed codes, and agrees with the scalar reference in mlx_affine_ops.cpp up to
// float summation order. REQUIRES the CPU to support the file's ISA level (callers go through
// mlx_affine_type_ops).
#pragma once

#include "backend/cpu/kernel_fns.h"

namespace inferd::backend::cpu::avx2 {

// Tile limits of the AVX2 gemm kernels.
constexpr int kMlxMaxRows = 4;
constexpr int kMlxMaxActs = 2;
GemmFn gemm_mlx_q4_g32, gemm_mlx_q4_g64, gemm_mlx_q4_g128;
GemmFn gemm_mlx_q8_g32, gemm_mlx_q8_g64, gemm_mlx_q8_g128;
GemmFn gemm_mlx_q2_g32, gemm_mlx_q2_g64, gemm_mlx_q2_g128;
GemmFn gemm_mlx_q3_g32, gemm_mlx_q3_g64, gemm_mlx_q3_g128;
GemmFn gemm_mlx_q5_g32, gemm_mlx_q5_g64, gemm_mlx_q5_g128;
GemmFn gemm_mlx_q6_g32, gemm_mlx_q6_g64, gemm_mlx_q6_g128;

}  // namespace inferd::backend::cpu::avx2

namespace inferd::backend::cpu::avx512 {

// Tile limits of the AVX-512 gemm kernels.
constexpr int kMlxMaxRows = 8;
constexpr int kMlxMaxActs = 3;
GemmFn gemm_mlx_q4_g32, gemm_mlx_q4_g64, gemm_mlx_q4_g128;
GemmFn gemm_mlx_q8_g32, gemm_mlx_q8_g64, gemm_mlx_q8_g128;
GemmFn gemm_mlx_q2_g32, gemm_mlx_q2_g64, gemm_mlx_q2_g128;
GemmFn gemm_mlx_q3_g32, gemm_mlx_q3_g64, gemm_mlx_q3_g128;
GemmFn gemm_mlx_q5_g32, gemm_mlx_q5_g64, gemm_mlx_q5_g128;
GemmFn gemm_mlx_q6_g32, gemm_mlx_q6_g64, gemm_mlx_q6_g128;

}  // namespace inferd::backend::cpu::avx512
