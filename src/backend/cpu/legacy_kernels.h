// SIMD kernels of the legacy quantized types (legacy_ops_avx2.cpp, legacy_ops_avx512.cpp).
// Each gemm_<type> multiplies weights of that type with Q8_0 activations (see TypeOps::gemm) and
// agrees with the scalar reference in legacy_ops.cpp up to float summation order;
// quantize_q8_0 is bit-identical to the reference Q8_0 from_float.
// REQUIRES the CPU to support the file's ISA level (callers go through legacy_type_ops).
#pragma once

#include "backend/cpu/kernel_fns.h"

namespace inferd::backend::cpu {

namespace avx2 {
// Tile limits of the AVX2 gemm kernels.
constexpr int kLegacyMaxRows = 4;
constexpr int kLegacyMaxActs = 2;
GemmFn gemm_q4_0, gemm_q4_1, gemm_q5_0, gemm_q5_1, gemm_q8_0;
FromFloatFn quantize_q8_0;
}  // namespace avx2

namespace avx512 {
// Tile limits of the AVX-512 gemm kernels.
constexpr int kLegacyMaxRows = 8;
constexpr int kLegacyMaxActs = 3;
GemmFn gemm_q4_0, gemm_q4_1, gemm_q5_0, gemm_q5_1, gemm_q8_0;
FromFloatFn quantize_q8_0;
}  // namespace avx512

}  // namespace inferd::backend::cpu
