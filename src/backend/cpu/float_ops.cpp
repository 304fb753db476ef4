// Float weight types (F32, F16, BF16): the scalar reference kernels and the table of kernels per
// ISA level. Float weights multiply F32 activations; the reference accumulates each dot product
// in float, element by element.
#include <cstring>

#include "backend/cpu/float_kernels.h"
#include "backend/cpu/type_ops.h"
#include "base/half.h"

namespace inferd::backend::cpu {
namespace {

struct F32 {
  using Elem = float;
  static constexpr DType kType = DType::kF32;
  static float load(float v) { return v; }
  static float store(float v) { return v; }
};
struct F16 {
  using Elem = f16_t;
  static constexpr DType kType = DType::kF16;
  static float load(f16_t v) { return f16_to_f32(v); }
  static f16_t store(float v) { return f32_to_f16(v); }
};
struct BF16 {
  using Elem = bf16_t;
  static constexpr DType kType = DType::kBF16;
  static float load(bf16_t v) { return bf16_to_f32(v); }
  static bf16_t store(float v) { return f32_to_bf16(v); }
};

template <class T>
void to_float(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const typename T::Elem*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = T::load(s[i]);
}

template <class T>
void from_float(const float* src, void* dst, int64_t n) {
  auto* d = static_cast<typename T::Elem*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = T::store(src[i]);
}

template <class T>
void gemm(int64_t n, const void* w, size_t w_stride, int num_rows, const void* act,
          size_t act_stride, int num_acts, float* out, size_t out_stride) {
  for (int j = 0; j < num_acts; ++j) {
    const auto* a = reinterpret_cast<const float*>(static_cast<const char*>(act) + j * act_stride);
    for (int i = 0; i < num_rows; ++i) {
      const auto* wr =
          reinterpret_cast<const typename T::Elem*>(static_cast<const char*>(w) + i * w_stride);
      float sum = 0.0f;
      for (int64_t k = 0; k < n; ++k) sum += T::load(wr[k]) * a[k];
      out[j * out_stride + i] = sum;
    }
  }
}

template <class T>
constexpr TypeOps reference_ops() {
  return {T::kType, DType::kF32, to_float<T>, from_float<T>, gemm<T>, 4, 4};
}

constexpr TypeOps kScalarOps[] = {reference_ops<F32>(), reference_ops<F16>(),
                                  reference_ops<BF16>()};

const TypeOps* find(const TypeOps* table, size_t size, DType type) {
  for (size_t i = 0; i < size; ++i)
    if (table[i].type == type) return &table[i];
  return nullptr;
}

}  // namespace

const TypeOps* float_type_ops(DType type, IsaLevel level) {
  switch (level) {
    case IsaLevel::kScalar: return find(kScalarOps, std::size(kScalarOps), type);
    case IsaLevel::kAvx2: return nullptr;
    case IsaLevel::kAvx512: return nullptr;
  }
  return nullptr;
}

}  // namespace inferd::backend::cpu
