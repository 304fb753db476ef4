// The K-quant family's TypeOps tables: one row per type and ISA level. Weight types take Q8_K
// activations; Q8_K itself is an activation type only (no gemm).
#include "backend/cpu/kquant_kernels.h"
#include "backend/cpu/type_ops.h"

namespace inferd::backend::cpu {
namespace {

using namespace kquant;

constexpr TypeOps weight_ops(DType type, void (*to_float)(const void*, float*, int64_t),
                             void (*from_float)(const float*, void*, int64_t), GemmFn gemm,
                             int max_rows, int max_acts) {
  return TypeOps{.type = type,
                 .act_type = DType::kQ8_K,
                 .to_float = to_float,
                 .from_float = from_float,
                 .gemm = gemm,
                 .max_rows = max_rows,
                 .max_acts = max_acts};
}

constexpr TypeOps act_ops(void (*from_float)(const float*, void*, int64_t)) {
  return TypeOps{.type = DType::kQ8_K,
                 .act_type = DType::kQ8_K,
                 .to_float = q8_k_to_float,
                 .from_float = from_float,
                 .gemm = nullptr,
                 .max_rows = 1,
                 .max_acts = 1};
}

// Dequantization and weight quantization are scalar at every level (they are not on the hot
// path); gemm and the activation quantizer are per level.
constexpr TypeOps kScalarOps[] = {
    weight_ops(DType::kQ2_K, q2_k_to_float, q2_k_from_float, q2_k_gemm_ref, kRefMaxRows,
               kRefMaxActs),
    weight_ops(DType::kQ3_K, q3_k_to_float, q3_k_from_float, q3_k_gemm_ref, kRefMaxRows,
               kRefMaxActs),
    weight_ops(DType::kQ4_K, q4_k_to_float, q4_k_from_float, q4_k_gemm_ref, kRefMaxRows,
               kRefMaxActs),
    weight_ops(DType::kQ5_K, q5_k_to_float, q5_k_from_float, q5_k_gemm_ref, kRefMaxRows,
               kRefMaxActs),
    weight_ops(DType::kQ6_K, q6_k_to_float, q6_k_from_float, q6_k_gemm_ref, kRefMaxRows,
               kRefMaxActs),
    act_ops(q8_k_from_float),
};

constexpr TypeOps kAvx2Ops[] = {
    weight_ops(DType::kQ2_K, q2_k_to_float, q2_k_from_float, q2_k_gemm_avx2, kAvx2MaxRows,
               kAvx2MaxActs),
    weight_ops(DType::kQ3_K, q3_k_to_float, q3_k_from_float, q3_k_gemm_avx2, kAvx2MaxRows,
               kAvx2MaxActs),
    weight_ops(DType::kQ4_K, q4_k_to_float, q4_k_from_float, q4_k_gemm_avx2, kAvx2MaxRows,
               kAvx2MaxActs),
    weight_ops(DType::kQ5_K, q5_k_to_float, q5_k_from_float, q5_k_gemm_avx2, kAvx2MaxRows,
               kAvx2MaxActs),
    weight_ops(DType::kQ6_K, q6_k_to_float, q6_k_from_float, q6_k_gemm_avx2, kAvx2MaxRows,
               kAvx2MaxActs),
    act_ops(q8_k_from_float_avx2),
};

constexpr TypeOps kAvx512Ops[] = {
    weight_ops(DType::kQ2_K, q2_k_to_float, q2_k_from_float, q2_k_gemm_avx512, kAvx512MaxRows,
               kAvx512MaxActs),
    weight_ops(DType::kQ3_K, q3_k_to_float, q3_k_from_float, q3_k_gemm_avx512, kAvx512MaxRows,
               kAvx512MaxActs),
    weight_ops(DType::kQ4_K, q4_k_to_float, q4_k_from_float, q4_k_gemm_avx512, kAvx512MaxRows,
               kAvx512MaxActs),
    weight_ops(DType::kQ5_K, q5_k_to_float, q5_k_from_float, q5_k_gemm_avx512, kAvx512MaxRows,
               kAvx512MaxActs),
    weight_ops(DType::kQ6_K, q6_k_to_float, q6_k_from_float, q6_k_gemm_avx512, kAvx512MaxRows,
               kAvx512MaxActs),
    act_ops(q8_k_from_float_avx512),
};

template <size_t N>
const TypeOps* find(const TypeOps (&table)[N], DType type) {
  for (const TypeOps& ops : table)
    if (ops.type == type) return &ops;
  return nullptr;
}

}  // namespace

const TypeOps* kquant_type_ops(DType type, IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar: return find(kScalarOps, type);
    case IsaLevel::kAvx2: return find(kAvx2Ops, type);
    case IsaLevel::kAvx512: return find(kAvx512Ops, type);
  }
  return nullptr;
}

}  // namespace inferd::backend::cpu
