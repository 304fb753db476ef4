// SIMD kernels of the MLX affine block types (mlx_affine_ops_avx2.cpp, mlx_affine_ops_avx512.cpp).
// Each gemm multiplies blocks of its type with F32 activations (see TypeOps::gemm), dequantizing
// every weight as fmaf(s, q, b) like the scalar reference in mlx_affine_ops.cpp, and agrees with it
// up to float summation order. REQUIRES the CPU to support the file's ISA level (callers go through
// mlx_affine_type_ops).
#pragma once

#include "backend/cpu/kernel_fns.h"

namespace inferd::backend::cpu::avx2 {

constexpr int kMlxMaxRows = 4;
constexpr int kMlxMaxActs = 2;
GemmFn gemm_mlx_q4_g32, gemm_mlx_q4_g64, gemm_mlx_q4_g128;
GemmFn gemm_mlx_q8_g32, gemm_mlx_q8_g64, gemm_mlx_q8_g128;

}  // namespace inferd::backend::cpu::avx2

namespace inferd::backend::cpu::avx512 {

constexpr int kMlxMaxRows = 4;
constexpr int kMlxMaxActs = 4;
GemmFn gemm_mlx_q4_g32, gemm_mlx_q4_g64, gemm_mlx_q4_g128;
GemmFn gemm_mlx_q8_g32, gemm_mlx_q8_g64, gemm_mlx_q8_g128;

}  // namespace inferd::backend::cpu::avx512
