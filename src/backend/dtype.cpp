#include "backend/dtype.h"

#include <array>
#include <cctype>

#include "base/check.h"

namespace inferd::backend {
namespace {

// Sizes follow the GGUF/ggml block layouts. Types marked false are recognised (so files holding
// them can be opened and inspected) but have no kernels.
constexpr DTypeInfo kTypes[] = {
    {DType::kF32, "f32", 1, 4, true},
    {DType::kF16, "f16", 1, 2, true},
    {DType::kQ4_0, "q4_0", 32, 18, true},
    {DType::kQ4_1, "q4_1", 32, 20, true},
    {DType::kQ5_0, "q5_0", 32, 22, true},
    {DType::kQ5_1, "q5_1", 32, 24, true},
    {DType::kQ8_0, "q8_0", 32, 34, true},
    {DType::kQ8_1, "q8_1", 32, 36, false},
    {DType::kQ2_K, "q2_k", 256, 84, true},
    {DType::kQ3_K, "q3_k", 256, 110, true},
    {DType::kQ4_K, "q4_k", 256, 144, true},
    {DType::kQ5_K, "q5_k", 256, 176, true},
    {DType::kQ6_K, "q6_k", 256, 210, true},
    {DType::kQ8_K, "q8_k", 256, 292, false},
    {DType::kIQ2_XXS, "iq2_xxs", 256, 66, false},
    {DType::kIQ2_XS, "iq2_xs", 256, 74, false},
    {DType::kIQ3_XXS, "iq3_xxs", 256, 98, false},
    {DType::kIQ1_S, "iq1_s", 256, 50, false},
    {DType::kIQ4_NL, "iq4_nl", 32, 18, false},
    {DType::kIQ3_S, "iq3_s", 256, 110, false},
    {DType::kIQ2_S, "iq2_s", 256, 82, false},
    {DType::kIQ4_XS, "iq4_xs", 256, 136, false},
    {DType::kI8, "i8", 1, 1, false},
    {DType::kI16, "i16", 1, 2, false},
    {DType::kI32, "i32", 1, 4, false},
    {DType::kI64, "i64", 1, 8, false},
    {DType::kF64, "f64", 1, 8, false},
    {DType::kIQ1_M, "iq1_m", 256, 56, false},
    {DType::kBF16, "bf16", 1, 2, true},
    {DType::kTQ1_0, "tq1_0", 256, 54, false},
    {DType::kTQ2_0, "tq2_0", 256, 66, false},
    // One block per quantization group: f32 scale, f32 bias, then the codes (mlx_affine.h).
    {DType::kMlxQ4G32, "mlx_q4_g32", 32, 8 + 16, true, false},
    {DType::kMlxQ4G64, "mlx_q4_g64", 64, 8 + 32, true, false},
    {DType::kMlxQ4G128, "mlx_q4_g128", 128, 8 + 64, true, false},
    {DType::kMlxQ8G32, "mlx_q8_g32", 32, 8 + 32, true, false},
    {DType::kMlxQ8G64, "mlx_q8_g64", 64, 8 + 64, true, false},
    {DType::kMlxQ8G128, "mlx_q8_g128", 128, 8 + 128, true, false},
    {DType::kMlxQ2G32, "mlx_q2_g32", 32, 8 + 8, true, false},
    {DType::kMlxQ2G64, "mlx_q2_g64", 64, 8 + 16, true, false},
    {DType::kMlxQ2G128, "mlx_q2_g128", 128, 8 + 32, true, false},
    {DType::kMlxQ3G32, "mlx_q3_g32", 32, 8 + 12, true, false},
    {DType::kMlxQ3G64, "mlx_q3_g64", 64, 8 + 24, true, false},
    {DType::kMlxQ3G128, "mlx_q3_g128", 128, 8 + 48, true, false},
    {DType::kMlxQ5G32, "mlx_q5_g32", 32, 8 + 20, true, false},
    {DType::kMlxQ5G64, "mlx_q5_g64", 64, 8 + 40, true, false},
    {DType::kMlxQ5G128, "mlx_q5_g128", 128, 8 + 80, true, false},
    {DType::kMlxQ6G32, "mlx_q6_g32", 32, 8 + 24, true, false},
    {DType::kMlxQ6G64, "mlx_q6_g64", 64, 8 + 48, true, false},
    {DType::kMlxQ6G128, "mlx_q6_g128", 128, 8 + 96, true, false},
};

}  // namespace

std::optional<DTypeInfo> dtype_info(uint32_t raw_type) {
  for (const auto& t : kTypes)
    if (static_cast<uint32_t>(t.type) == raw_type && t.in_gguf) return t;
  return std::nullopt;
}

const DTypeInfo& dtype_info(DType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t;
  INFERD_CHECK_MSG(false, "unknown DType");
  __builtin_unreachable();
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& t : kTypes) {
    std::string_view n = t.name;
    if (n.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < n.size() && eq; ++i)
      eq = std::tolower(static_cast<unsigned char>(name[i])) == n[i];
    if (eq) return t.type;
  }
  return std::nullopt;
}

int64_t dtype_bytes(DType type, int64_t num_elems) {
  const DTypeInfo& info = dtype_info(type);
  INFERD_CHECK(num_elems % info.block_elems == 0);
  return num_elems / info.block_elems * info.block_bytes;
}

}  // namespace inferd::backend
