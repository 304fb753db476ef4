// Function types of the per-type kernels (the signatures of TypeOps' members), so that kernel files
// can declare their entry points as `GemmFn gemm_q4_0;` and the family tables can refer to them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inferd::backend::cpu {

// See TypeOps::to_float.
using ToFloatFn = void(const void* src, float* dst, int64_t n);
// See TypeOps::from_float.
using FromFloatFn = void(const float* src, void* dst, int64_t n);
// See TypeOps::gemm.
using GemmFn = void(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);

}  // namespace inferd::backend::cpu
