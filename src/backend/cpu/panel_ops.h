// PanelOps: weights repacked at load time into row panels, and the kernels that multiply them.
//
// Decoding one token reads every weight once, so its speed is the rate at which a core can
// stream weights through its dot-product kernel. In the file layout each row is a separate run
// of blocks, so a kernel must gather blocks and scales from several rows with permutes and sum
// lanes horizontally. The panel layout instead interleaves 64 rows so that one 32-bit lane of a
// 512-bit register belongs to one row: an activation block is broadcast 4 bytes at a time and a
// vpdpbusd adds 4 products to each of 16 rows at once, with no shuffles and no horizontal sums.
//
// Panel layout of a matrix of `rows` x `cols`: ceil(rows / 64) panels, each cols / group_elems
// records in column order. A record covers one quantization group (group_elems columns: 32 for
// Q4_0 and Q8_0, the group size for the MLX affine types) of the panel's 64 rows:
//   header, row order:
//     Q4_0, Q8_0: 64 IEEE half scales (128 bytes);
//     MLX affine: 64 f32 scales, then 64 f32 biases (512 bytes);
//   then group_elems / 32 sub-records, one per 32-element block, each holding the quants:
//     4 groups of 16 rows, each `chunks` 64-byte chunks, one chunk per bit of a weight (chunks =
//     bits: 4 for Q4_0, 8 for Q8_0, 2..8 for MLX); byte 4 * r + b of chunk j of group g is
//     weight byte 4 * j + b of row 16 * g + r in the block, where the block's 4 * bits weight
//     bytes are
//     Q4_0: its 16 code bytes (low nibble: element i, high nibble: element i + 16);
//     Q8_0: its int8 values with the sign bit flipped (q + 128);
//     MLX affine: its codes in the block layout of backend/mlx_affine.h, i.e. bit planes of
//       width w = 8, 4, 2 or 1, low code bits first (2 = 2, 3 = 2+1, 4 = 4, 5 = 4+1, 6 = 4+2,
//       8 = 8), a plane of width w being 4 * w bytes in which element e's w bits are bits
//       [w * (e / (4w)), w * (e / (4w)) + w) of byte e % (4w); Q4_0 is the 4-bit case.
//   So a plane of width w occupies w consecutive chunks, and in chunk c of the plane byte b of
//   each lane holds, at bits [w * f, w * f + w) for f < 8 / w, the field of element
//   4 * (w * f + c) + b: shifting a chunk right by w * f and masking each byte to w bits gives
//   the plane's field of elements 4i..4i+3 (i = w * f + c) of each row in its lane, the order
//   of 4 consecutive activation bytes. A weight is the OR of its planes' fields, the field of
//   the plane starting at code bit l shifted left by l.
//   Reference decoding (panel_ops.cpp): element e of row r of a block gathers the row's 4-byte
//   lane words of the group's chunks 0..bits-1 into the 4 * bits weight bytes and reads code e
//   with mlx_chunk_code (Q8_0: the flipped byte q + 128; start_factor corrects the offset).
// Rows past `rows` are zero (zero scales and biases). The size equals the file layout's whenever
// rows is a multiple of 64, so the panels replace the file's weights as the matmul read path.
//
// Activations for panel kernels (PanelActs) are Q8_0 blocks split into arrays, per token row of nb
// = cols / 32 blocks:
//   qs: nb * 32 int8 values; d: nb floats (the Q8_0 half scale, widened); start: nb int32
//   holding start_factor * sum(qs of the block). For Q4_0 and Q8_0 start_factor is minus the
//   weights' offset (8, 128), so that a block's integer dot product over the unsigned weights
//   starts from its offset correction; for the MLX types it is 1 (start is the block's sum,
//   which meets the bias).
// The values are those of the Q8_0 quantization (TypeOps::from_float), bit for bit.
//
// Each output is a float sum over blocks k in column order, with the exact integer dot_k:
//   Q4_0, Q8_0: acc = fma(float(dot_k + start_k), dw_k * da_k, acc);
//   MLX:        acc = fma(float(dot_k), s * da_k, acc); acc = fma(b, da_k * float(start_k), acc)
// (s, b: the scale and bias of the block's group), so every kernel and the scalar reference give
// identical results, whatever the tile shape, batch or thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/dtype.h"
#include "base/cpu_features.h"

namespace inferd::backend::cpu {

// The types with panel kernels, one row each: X(name, DType, bits (= chunks), group_elems, affine,
// start_factor, streams) (PanelOps fields). The table of panel_ops(), the scalar reference and the
// AVX-512 kernels avx512::panel_gemm_<name> and panel_decode_<name> are all generated from these
// rows: a type is one row here.
#define INFERD_PANEL_TYPES(X)                    \
  X(q4_0, kQ4_0, 4, 32, false, -8, 2)            \
  X(q8_0, kQ8_0, 8, 32, false, -128, 2)          \
  X(mlx_q2_g32, kMlxQ2G32, 2, 32, true, 1, 1)    \
  X(mlx_q2_g64, kMlxQ2G64, 2, 64, true, 1, 1)    \
  X(mlx_q2_g128, kMlxQ2G128, 2, 128, true, 1, 1) \
  X(mlx_q3_g32, kMlxQ3G32, 3, 32, true, 1, 1)    \
  X(mlx_q3_g64, kMlxQ3G64, 3, 64, true, 1, 1)    \
  X(mlx_q3_g128, kMlxQ3G128, 3, 128, true, 1, 1) \
  X(mlx_q4_g32, kMlxQ4G32, 4, 32, true, 1, 1)    \
  X(mlx_q4_g64, kMlxQ4G64, 4, 64, true, 1, 1)    \
  X(mlx_q4_g128, kMlxQ4G128, 4, 128, true, 1, 1) \
  X(mlx_q5_g32, kMlxQ5G32, 5, 32, true, 1, 1)    \
  X(mlx_q5_g64, kMlxQ5G64, 5, 64, true, 1, 1)    \
  X(mlx_q5_g128, kMlxQ5G128, 5, 128, true, 1, 1) \
  X(mlx_q6_g32, kMlxQ6G32, 6, 32, true, 1, 1)    \
  X(mlx_q6_g64, kMlxQ6G64, 6, 64, true, 1, 1)    \
  X(mlx_q6_g128, kMlxQ6G128, 6, 128, true, 1, 1) \
  X(mlx_q8_g32, kMlxQ8G32, 8, 32, true, 1, 1)    \
  X(mlx_q8_g64, kMlxQ8G64, 8, 64, true, 1, 1)    \
  X(mlx_q8_g128, kMlxQ8G128, 8, 128, true, 1, 1)

constexpr int kPanelRows = 64;
constexpr int kPanelGroupRows = 16;
constexpr int kPanelGroups = kPanelRows / kPanelGroupRows;

// Prefill tile product on panel data (nb = cols / 32 blocks per row). For the group `group` of
// the panel starting at `panel` and tokens t < num_acts (PanelActs rows act_stride bytes apart):
//   out[t * out_stride + i] = row (16 * group + i) . token t, for i < num_rows,
// REQUIRES num_rows <= 16, 1 <= num_acts <= PanelOps::max_acts.
using PanelGemmFn = void(int64_t nb, const uint8_t* panel, int group, const uint8_t* act,
                         size_t act_stride, int num_acts, float* out, size_t out_stride,
                         int num_rows);

// One whole panel of a decode product: out[i] = row i of the panel . the token, for i < rows
// (<= 64).
struct PanelJob {
  const uint8_t* panel;
  float* out;
  int rows;
};

// Decode product of one token (PanelActs row `act`) with num_jobs whole panels, REQUIRES
// 1 <= num_jobs <= kPanelMaxJobs. The fast kernels may read the panels in step, so that one core
// fetches several sequential streams at once; each job's outputs are the same whichever jobs it
// runs with.
using PanelDecodeFn = void(int64_t nb, const PanelJob* jobs, int num_jobs, const uint8_t* act);
constexpr int kPanelMaxJobs = 3;

// Blocks [k0, k1) of the float row x into the PanelActs row `dst` of nb blocks, `start_factor`
// times each block's sum in its start: the values of the Q8_0 quantization, bit for bit, at every
// level.
using PanelActsFn = void(const float* x, int64_t nb, int64_t k0, int64_t k1, int start_factor,
                         uint8_t* dst);

struct PanelOps {
  DType type = DType::kQ4_0;
  int chunks = 4;         // 64-byte quant chunks per group of 16 rows and block: the weight bits
  int group_elems = 32;   // columns per record (the weights' quantization group)
  bool affine = false;    // MLX affine: f32 scales and biases, unsigned codes
  int start_factor = -8;  // PanelActs start = start_factor * block sum
  int max_acts = 1;
  // Panels a decode call reads in step (<= kPanelMaxJobs): the matmul driver splits each
  // thread's share into this many sequential streams. Measured on a 2-core machine, decode of a
  // 1.1B model with the variants alternating token by token: Q4_0 is fastest with 2 (3: 5-13%
  // slower, 1: 0-9% slower); Q8_0 with 2 (3: 2-12% slower; one earlier day, with other loads on
  // the machine's memory, 3 was 3% faster); the MLX types with 1 (2 or 3: 3-4% slower; with the
  // in-order records of the decode kernels, MLX 8-bit group 64 streams at 83% of the read
  // bandwidth with 2 against 94% with 1).
  int streams = 1;
  PanelGemmFn* gemm = nullptr;
  PanelDecodeFn* decode = nullptr;
  PanelActsFn* quantize = nullptr;

  size_t header_bytes() const { return affine ? kPanelRows * 8 : kPanelRows * 2; }
  size_t block_quant_bytes() const { return kPanelGroups * chunks * 64; }
  size_t record_bytes() const {
    return header_bytes() + static_cast<size_t>(group_elems / 32) * block_quant_bytes();
  }
};

// Panel kernels for `type` at `level`: the scalar reference at kScalar, the AVX-512 kernels at
// kAvx512; nullptr when there are none (the matrix then stays in its file layout). Q4_0, Q8_0
// and the MLX affine types of every width (2, 3, 4, 5, 6 and 8 bits) have panel kernels.
const PanelOps* panel_ops(DType type, IsaLevel level = cpu_features().level);

// Bytes of the panel form of a rows x cols matrix of a type with panel kernels
// (REQUIRES cols % ops.group_elems == 0), and of one of its panels.
size_t panel_matrix_bytes(const PanelOps& ops, int64_t rows, int64_t cols);
size_t panel_bytes(const PanelOps& ops, int64_t cols);

// Writes the panel form of `rows` rows of `cols` elements (file layout, rows row_bytes apart)
// to `dst` (panel_matrix_bytes bytes, 64-byte aligned).
void pack_panels(const PanelOps& ops, const void* data, int64_t rows, int64_t cols,
                 size_t row_bytes, uint8_t* dst);

// Bytes of one PanelActs row of `cols` elements, a multiple of 64.
size_t panel_act_row_bytes(int64_t cols);

// Offsets of the arrays d and start in a PanelActs row of nb blocks (qs is at 0).
inline size_t panel_act_d_offset(int64_t nb) {
  return static_cast<size_t>(nb) * 32;
}
inline size_t panel_act_start_offset(int64_t nb) {
  return static_cast<size_t>(nb) * (32 + sizeof(float));
}

// Converts blocks [k0, k1) of the float row x (cols elements) into the PanelActs row `dst`.
void quantize_panel_acts(const PanelOps& ops, const float* x, int64_t cols, int64_t k0, int64_t k1,
                         uint8_t* dst);

namespace avx512 {
#define INFERD_PANEL_DECLARE(name, type, bits, group_elems, affine, start_factor, streams) \
  PanelGemmFn panel_gemm_##name;                                                           \
  PanelDecodeFn panel_decode_##name;
INFERD_PANEL_TYPES(INFERD_PANEL_DECLARE)
#undef INFERD_PANEL_DECLARE
PanelActsFn quantize_panel_acts;
constexpr int kPanelMaxActs = 8;
}  // namespace avx512

}  // namespace inferd::backend::cpu
