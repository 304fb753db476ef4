// SIMD kernels of the float weight types (float_ops_avx2.cpp, float_ops_avx512.cpp). Each
// gemm_<type> multiplies weights of that type with F32 activations (see TypeOps::gemm) and agrees
// with the scalar reference in float_ops.cpp up to float summation order. The F16 conversions are
// bit-identical to base/half.h for every non-NaN value.
// REQUIRES the CPU to support the file's ISA level (callers go through float_type_ops).
#pragma once

#include "backend/cpu/kernel_fns.h"

namespace inferd::backend::cpu {

namespace avx2 {
// Tile limits of the AVX2 gemm kernels.
constexpr int kFloatMaxRows = 4;
constexpr int kFloatMaxActs = 2;
GemmFn gemm_f32, gemm_f16, gemm_bf16;
ToFloatFn f16_to_float;
FromFloatFn f16_from_float;
}  // namespace avx2

namespace avx512 {
// Tile limits of the AVX-512 gemm kernels.
constexpr int kFloatMaxRows = 4;
constexpr int kFloatMaxActs = 4;
GemmFn gemm_f32, gemm_f16, gemm_bf16;
ToFloatFn f16_to_float;
FromFloatFn f16_from_float;
}  // namespace avx512

}  // namespace inferd::backend::cpu
