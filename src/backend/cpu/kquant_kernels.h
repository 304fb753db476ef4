// Kernels of the K-quant family (Q2_K .. Q6_K weights, Q8_K activations), one set per ISA level.
// kquant_ops.cpp collects them into TypeOps tables; only tests and benchmarks call them directly.
//
// All weight kernels compute, per 256-element super-block and activation row,
//   d_act * (d * sum_g sc[g] * sum_{e in g} q[e] * a[e]  -  dm * sum_g m[g] * bsum[g])
// where g runs over the 16 groups of 16 elements, a are the Q8_K int8 values, bsum their
// per-group sums, and (d, dm, sc, m, q) the super-block's integer form (kquant_ref.h). The integer
// sums are exact in every implementation; only their conversion to float and the order of the
// float accumulation differ.
//
// The gemm functions follow TypeOps::gemm; each REQUIRES num_rows <= its level's kMaxRows and
// num_acts <= its level's kMaxActs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inferd::backend::cpu::kquant {

using GemmFn = void (*)(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                        size_t act_stride, int num_acts, float* out, size_t out_stride);

// Tile limits per level (TypeOps::max_rows / max_acts). Rows are processed one after another in
// memory order (a single stream for the hardware prefetcher), so max_rows only bounds the work of
// one call; max_acts is the number of activation rows that share each decoded weight block.
inline constexpr int kRefMaxRows = 4, kRefMaxActs = 8;
inline constexpr int kAvx2MaxRows = 16, kAvx2MaxActs = 4;
inline constexpr int kAvx512MaxRows = 16, kAvx512MaxActs = 8;

// Scalar reference (kquant_ref.cpp): exact GGUF semantics.
void q2_k_to_float(const void* src, float* dst, int64_t n);
void q3_k_to_float(const void* src, float* dst, int64_t n);
void q4_k_to_float(const void* src, float* dst, int64_t n);
void q5_k_to_float(const void* src, float* dst, int64_t n);
void q6_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_to_float(const void* src, float* dst, int64_t n);
void q8_k_from_float(const float* src, void* dst, int64_t n);
void q2_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride);
void q3_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride);
void q4_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride);
void q5_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride);
void q6_k_gemm_ref(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                   size_t act_stride, int num_acts, float* out, size_t out_stride);

// Round-to-nearest quantizers of weights (kquant_quantize.cpp).
void q2_k_from_float(const float* src, void* dst, int64_t n);
void q3_k_from_float(const float* src, void* dst, int64_t n);
void q4_k_from_float(const float* src, void* dst, int64_t n);
void q5_k_from_float(const float* src, void* dst, int64_t n);
void q6_k_from_float(const float* src, void* dst, int64_t n);

// AVX2 (kquant_avx2.cpp). q8_k_from_float_* produce exactly the bytes of
// the scalar q8_k_from_float.
void q8_k_from_float_avx2(const float* src, void* dst, int64_t n);
void q2_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);
void q3_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);
void q4_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);
void q5_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);
void q6_k_gemm_avx2(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride);

// AVX-512 F/BW/VL + VNNI (kquant_avx512.cpp).
void q8_k_from_float_avx512(const float* src, void* dst, int64_t n);
void q2_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride);
void q3_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride);
void q4_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride);
void q5_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride);
void q6_k_gemm_avx512(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
                      size_t act_stride, int num_acts, float* out, size_t out_stride);

}  // namespace inferd::backend::cpu::kquant
