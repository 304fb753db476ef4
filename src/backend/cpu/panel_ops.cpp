// Panel packing, activation conversion and the scalar reference panel kernels (see panel_ops.h).
#include "backend/cpu/panel_ops.h"

#include <cmath>
#include <cstring>

#include "backend/cpu/blocks.h"
#include "backend/cpu/type_ops.h"
#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

constexpr int kChunkBytes = 64;

size_t round_up(size_t v, size_t to) {
  return (v + to - 1) / to * to;
}

// Offsets of the PanelActs arrays in a row of nb blocks.
size_t act_d_offset(int64_t nb) {
  return static_cast<size_t>(nb) * kQK;
}
size_t act_start_offset(int64_t nb) {
  return static_cast<size_t>(nb) * (kQK + sizeof(float));
}

// The unsigned weight of element i (0..31) of row r of a record (reference decoding).
int panel_weight(const PanelOps& ops, const uint8_t* record, int r, int i) {
  const uint8_t* group = record + kPanelScaleBytes + (r / kPanelGroupRows) * ops.chunks * kChunkBytes;
  const int lane = r % kPanelGroupRows;
  if (ops.chunks == 8) return group[(i / 4) * kChunkBytes + 4 * lane + i % 4];
  const int byte = i % 16;  // qs byte holding element i
  const uint8_t v = group[(byte / 4) * kChunkBytes + 4 * lane + byte % 4];
  return i < 16 ? (v & 15) : (v >> 4);
}

template <int kChunks>
void reference_gemm(int64_t nb, const uint8_t* panel, int first_group, int num_groups,
                    const uint8_t* act, size_t act_stride, int num_acts, float* out,
                    size_t out_stride, int num_rows) {
  INFERD_CHECK(num_rows <= kPanelGroupRows * num_groups);
  const PanelOps& ops = *panel_ops(kChunks == 4 ? DType::kQ4_0 : DType::kQ8_0, IsaLevel::kScalar);
  const size_t record = ops.record_bytes();
  for (int t = 0; t < num_acts; ++t) {
    const uint8_t* a = act + t * act_stride;
    const auto* aq = reinterpret_cast<const int8_t*>(a);
    const auto* ad = reinterpret_cast<const float*>(a + act_d_offset(nb));
    const auto* as = reinterpret_cast<const int32_t*>(a + act_start_offset(nb));
    for (int i = 0; i < num_rows; ++i) {
      const int r = kPanelGroupRows * first_group + i;
      float acc = 0.0f;
      for (int64_t k = 0; k < nb; ++k) {
        const uint8_t* rec = panel + k * record;
        int32_t dot = as[k];
        for (int e = 0; e < kQK; ++e) dot += panel_weight(ops, rec, r, e) * aq[k * kQK + e];
        f16_t dw;
        std::memcpy(&dw, rec + 2 * r, 2);
        acc = std::fma(static_cast<float>(dot), f16_to_f32(dw) * ad[k], acc);
      }
      out[t * out_stride + i] = acc;
    }
  }
}

constexpr PanelOps kScalarQ4_0{DType::kQ4_0, 4, 8, 8, reference_gemm<4>};
constexpr PanelOps kScalarQ8_0{DType::kQ8_0, 8, 128, 8, reference_gemm<8>};
constexpr PanelOps kAvx512Q4_0{DType::kQ4_0, 4, 8, avx512::kPanelMaxActs, avx512::panel_gemm_q4_0};
constexpr PanelOps kAvx512Q8_0{DType::kQ8_0, 8, 128, avx512::kPanelMaxActs, avx512::panel_gemm_q8_0};

}  // namespace

const PanelOps* panel_ops(DType type, IsaLevel level) {
  const bool fast = level >= IsaLevel::kAvx512;
  switch (type) {
    case DType::kQ4_0: return level == IsaLevel::kScalar ? &kScalarQ4_0 : fast ? &kAvx512Q4_0 : nullptr;
    case DType::kQ8_0: return level == IsaLevel::kScalar ? &kScalarQ8_0 : fast ? &kAvx512Q8_0 : nullptr;
    default: return nullptr;
  }
}

size_t panel_matrix_bytes(const PanelOps& ops, int64_t rows, int64_t cols) {
  const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
  return static_cast<size_t>(panels) * static_cast<size_t>(cols / kQK) * ops.record_bytes();
}

void pack_panels(const PanelOps& ops, const void* data, int64_t rows, int64_t cols,
                 size_t row_bytes, uint8_t* dst) {
  INFERD_CHECK(cols % kQK == 0);
  const int64_t nb = cols / kQK;
  const size_t record = ops.record_bytes();
  const size_t block_bytes = ops.chunks == 4 ? sizeof(BlockQ4_0) : sizeof(BlockQ8_0);
  const auto* src = static_cast<const uint8_t*>(data);
  std::memset(dst, 0, panel_matrix_bytes(ops, rows, cols));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r / kPanelRows;
    const int pr = static_cast<int>(r % kPanelRows);
    const int g = pr / kPanelGroupRows, lane = pr % kPanelGroupRows;
    for (int64_t k = 0; k < nb; ++k) {
      const uint8_t* block = src + r * row_bytes + k * block_bytes;
      uint8_t* rec = dst + (p * nb + k) * record;
      std::memcpy(rec + 2 * pr, block, 2);  // the half scale d
      uint8_t* group = rec + kPanelScaleBytes + g * ops.chunks * kChunkBytes;
      for (int j = 0; j < ops.chunks; ++j) {
        uint32_t v;
        std::memcpy(&v, block + 2 + 4 * j, 4);
        if (ops.chunks == 8) v ^= 0x80808080u;  // int8 q to unsigned q + 128
        std::memcpy(group + j * kChunkBytes + 4 * lane, &v, 4);
      }
    }
  }
}

size_t panel_act_row_bytes(int64_t cols) {
  const int64_t nb = cols / kQK;
  return round_up(static_cast<size_t>(nb) * (kQK + sizeof(float) + sizeof(int32_t)), 64);
}

void quantize_panel_acts(const PanelOps& ops, const float* x, int64_t cols, int64_t k0, int64_t k1,
                         uint8_t* dst) {
  const int64_t nb = cols / kQK;
  const TypeOps& q8 = type_ops(DType::kQ8_0);
  auto* qs = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + act_d_offset(nb));
  auto* start = reinterpret_cast<int32_t*>(dst + act_start_offset(nb));
  constexpr int64_t kBatch = 8;
  BlockQ8_0 blocks[kBatch];
  for (int64_t k = k0; k < k1; k += kBatch) {
    const int64_t n = k1 - k < kBatch ? k1 - k : kBatch;
    q8.from_float(x + k * kQK, blocks, n * kQK);
    for (int64_t i = 0; i < n; ++i) {
      const BlockQ8_0& b = blocks[i];
      int32_t sum = 0;
      for (int e = 0; e < kQK; ++e) sum += b.qs[e];
      std::memcpy(qs + (k + i) * kQK, b.qs, kQK);
      d[k + i] = f16_to_f32(b.d);
      start[k + i] = -ops.act_offset * sum;
    }
  }
}

}  // namespace inferd::backend::cpu
