// Panel packing, activation conversion and the scalar reference panel kernels (see panel_ops.h).
#include "backend/cpu/panel_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/blocks.h"
#include "backend/cpu/type_ops.h"
#include "backend/mlx_affine.h"
#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

constexpr int kChunkBytes = 64;

size_t round_up(size_t v, size_t to) {
  return (v + to - 1) / to * to;
}

// The unsigned weight of element i (0..31) of row r in sub-record `block` (reference decoding):
// the row's lane words of the chunks are its weight bytes in block order (panel_ops.h).
int panel_weight(const PanelOps& ops, const uint8_t* block, int r, int i) {
  const uint8_t* group = block + (r / kPanelGroupRows) * ops.chunks * kChunkBytes;
  const int lane = r % kPanelGroupRows;
  uint8_t bytes[4 * 8];
  for (int j = 0; j < ops.chunks; ++j)
    std::memcpy(bytes + 4 * j, group + j * kChunkBytes + 4 * lane, 4);
  return static_cast<int>(mlx_chunk_code(bytes, ops.chunks, i));
}

float f32_at(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

template <DType kType>
void reference_gemm(int64_t nb, const uint8_t* panel, int group, const uint8_t* act,
                    size_t act_stride, int num_acts, float* out, size_t out_stride, int num_rows) {
  constexpr int kMaxActs = 8;
  INFERD_CHECK(num_rows <= kPanelGroupRows && num_acts <= kMaxActs);
  const PanelOps& ops = *panel_ops(kType, IsaLevel::kScalar);
  const int sub_blocks = ops.group_elems / kQK;
  const size_t record = ops.record_bytes();
  for (int i = 0; i < num_rows; ++i) {
    const int r = kPanelGroupRows * group + i;
    float acc[kMaxActs] = {};
    for (int64_t k = 0; k < nb; ++k) {
      const uint8_t* rec = panel + (k / sub_blocks) * record;
      const uint8_t* block = rec + ops.header_bytes() + (k % sub_blocks) * ops.block_quant_bytes();
      int weights[kQK];
      for (int e = 0; e < kQK; ++e) weights[e] = panel_weight(ops, block, r, e);
      for (int t = 0; t < num_acts; ++t) {
        const uint8_t* a = act + t * act_stride;
        const auto* aq = reinterpret_cast<const int8_t*>(a) + k * kQK;
        const float ad = reinterpret_cast<const float*>(a + panel_act_d_offset(nb))[k];
        const int32_t as = reinterpret_cast<const int32_t*>(a + panel_act_start_offset(nb))[k];
        int32_t dot = 0;
        for (int e = 0; e < kQK; ++e) dot += weights[e] * aq[e];
        if (ops.affine) {
          const float s = f32_at(rec + 4 * r), b = f32_at(rec + 4 * (kPanelRows + r));
          acc[t] = std::fma(static_cast<float>(dot), s * ad, acc[t]);
          acc[t] = std::fma(b, ad * static_cast<float>(as), acc[t]);
        } else {
          f16_t dw;
          std::memcpy(&dw, rec + 2 * r, 2);
          acc[t] = std::fma(static_cast<float>(dot + as), f16_to_f32(dw) * ad, acc[t]);
        }
      }
    }
    for (int t = 0; t < num_acts; ++t) out[t * out_stride + i] = acc[t];
  }
}

template <DType kType>
void reference_decode(int64_t nb, const PanelJob* jobs, int num_jobs, const uint8_t* act) {
  INFERD_CHECK(num_jobs >= 1 && num_jobs <= kPanelMaxJobs);
  for (int j = 0; j < num_jobs; ++j)
    for (int g = 0; g * kPanelGroupRows < jobs[j].rows; ++g)
      reference_gemm<kType>(nb, jobs[j].panel, g, act, 0, 1, jobs[j].out + g * kPanelGroupRows, 0,
                            std::min(kPanelGroupRows, jobs[j].rows - g * kPanelGroupRows));
}

// The reference PanelActs conversion: whichever Q8_0 from_float the machine selects (all give
// the reference's bits), then each block split into the arrays.
void reference_quantize_acts(const float* x, int64_t nb, int64_t k0, int64_t k1, int start_factor,
                             uint8_t* dst) {
  const TypeOps& q8 = type_ops(DType::kQ8_0);
  auto* qs = reinterpret_cast<int8_t*>(dst);
  auto* d = reinterpret_cast<float*>(dst + panel_act_d_offset(nb));
  auto* start = reinterpret_cast<int32_t*>(dst + panel_act_start_offset(nb));
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
      start[k + i] = start_factor * sum;
    }
  }
}

// The panel kernels of one type at each ISA level.
struct PanelEntry {
  PanelOps scalar, avx512;
};

constexpr PanelEntry kPanelTable[] = {
#define INFERD_PANEL_ENTRY(name, type, bits, group_elems, affine, start_factor, streams)           \
  {{DType::type, bits, group_elems, affine, start_factor, 8, streams, reference_gemm<DType::type>, \
    reference_decode<DType::type>, reference_quantize_acts},                                       \
   {DType::type, bits, group_elems, affine, start_factor, avx512::kPanelMaxActs, streams,          \
    avx512::panel_gemm_##name, avx512::panel_decode_##name, avx512::quantize_panel_acts}},
    INFERD_PANEL_TYPES(INFERD_PANEL_ENTRY)
#undef INFERD_PANEL_ENTRY
};

}  // namespace

const PanelOps* panel_ops(DType type, IsaLevel level) {
  if (level != IsaLevel::kScalar && level < IsaLevel::kAvx512) return nullptr;
  for (const PanelEntry& e : kPanelTable)
    if (e.scalar.type == type) return level == IsaLevel::kScalar ? &e.scalar : &e.avx512;
  return nullptr;
}

size_t panel_bytes(const PanelOps& ops, int64_t cols) {
  return static_cast<size_t>(cols / ops.group_elems) * ops.record_bytes();
}

size_t panel_matrix_bytes(const PanelOps& ops, int64_t rows, int64_t cols) {
  const int64_t panels = (rows + kPanelRows - 1) / kPanelRows;
  return static_cast<size_t>(panels) * panel_bytes(ops, cols);
}

void pack_panels(const PanelOps& ops, const void* data, int64_t rows, int64_t cols,
                 size_t row_bytes, uint8_t* dst) {
  INFERD_CHECK(cols % ops.group_elems == 0);
  const int64_t num_records = cols / ops.group_elems;
  const int sub_blocks = ops.group_elems / kQK;
  const size_t record = ops.record_bytes();
  // File layout of one group: Q4_0 / Q8_0 blocks are a half scale and the codes; MLX affine
  // blocks an f32 scale, an f32 bias and the codes of all the group's 32-element blocks.
  const size_t codes_offset = ops.affine ? 8 : 2;
  const size_t group_file_bytes = codes_offset + static_cast<size_t>(sub_blocks) * ops.chunks * 4;
  const bool flip_sign = !ops.affine && ops.chunks == 8;  // Q8_0: int8 q to unsigned q + 128
  const auto* src = static_cast<const uint8_t*>(data);
  std::memset(dst, 0, panel_matrix_bytes(ops, rows, cols));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t p = r / kPanelRows;
    const int pr = static_cast<int>(r % kPanelRows);
    const int g = pr / kPanelGroupRows, lane = pr % kPanelGroupRows;
    for (int64_t k = 0; k < num_records; ++k) {
      const uint8_t* block = src + r * row_bytes + k * group_file_bytes;
      uint8_t* rec = dst + (p * num_records + k) * record;
      if (ops.affine) {
        std::memcpy(rec + 4 * pr, block, 4);                     // scale
        std::memcpy(rec + 4 * (kPanelRows + pr), block + 4, 4);  // bias
      } else {
        std::memcpy(rec + 2 * pr, block, 2);  // the half scale d
      }
      for (int sb = 0; sb < sub_blocks; ++sb) {
        const uint8_t* codes = block + codes_offset + sb * ops.chunks * 4;
        uint8_t* group =
            rec + ops.header_bytes() + sb * ops.block_quant_bytes() + g * ops.chunks * kChunkBytes;
        for (int j = 0; j < ops.chunks; ++j) {
          uint32_t v;
          std::memcpy(&v, codes + 4 * j, 4);
          if (flip_sign) v ^= 0x80808080u;
          std::memcpy(group + j * kChunkBytes + 4 * lane, &v, 4);
        }
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
  ops.quantize(x, cols / kQK, k0, k1, ops.start_factor, dst);
}

}  // namespace inferd::backend::cpu
