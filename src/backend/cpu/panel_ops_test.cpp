#include "backend/cpu/panel_ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "backend/cpu/blocks.h"
#include "backend/cpu/kernel_testing.h"
#include "backend/cpu/matmul.h"
#include "backend/cpu/type_ops.h"
#include "backend/cpu/vec_ops.h"
#include "backend/mlx_affine.h"
#include "base/aligned_buffer.h"

namespace inferd::backend::cpu {
namespace {

constexpr DType kPanelTypes[] = {
#define INFERD_PANEL_TEST_TYPE(name, type, bits, group_elems, affine, start_factor, streams) \
  DType::type,
    INFERD_PANEL_TYPES(INFERD_PANEL_TEST_TYPE)
#undef INFERD_PANEL_TEST_TYPE
};

// Columns per record (quantization group) of a panel type.
int64_t group_elems(DType type) {
  return panel_ops(type, IsaLevel::kScalar)->group_elems;
}

float f32_at(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}

struct Packed {
  std::vector<uint8_t> file;  // rows in file layout, row_bytes apart
  size_t row_bytes = 0;
  AlignedBuffer panels;
};

Packed pack(DType type, int64_t rows, int64_t cols, uint32_t seed) {
  Packed p;
  const TypeOps& ref = type_ops(type, IsaLevel::kScalar);
  p.row_bytes = dtype_bytes(type, cols) + 6;  // padded rows
  const std::vector<float> wf = testing::random_floats(rows * cols, seed);
  p.file = testing::encode_rows(ref, wf.data(), rows, cols, p.row_bytes);
  const PanelOps& ops = *panel_ops(type, IsaLevel::kScalar);
  p.panels.resize(panel_matrix_bytes(ops, rows, cols));
  std::memset(p.panels.data(), 0xA5, p.panels.size_bytes());  // pack_panels must clear padding
  pack_panels(ops, p.file.data(), rows, cols, p.row_bytes, p.panels.data());
  return p;
}

// PanelActs rows of `tokens` x `cols` floats.
AlignedBuffer make_acts(const PanelOps& ops, const std::vector<float>& x, int64_t tokens,
                        int64_t cols) {
  const size_t stride = panel_act_row_bytes(cols);
  AlignedBuffer acts(stride * tokens);
  for (int64_t t = 0; t < tokens; ++t)
    quantize_panel_acts(ops, x.data() + t * cols, cols, 0, cols / kQK, acts.data() + t * stride);
  return acts;
}

// The defining formula on the file layout: for each block, the exact integer dot product of the
// weight values q (Q4_0 and Q8_0: without the offset; MLX: the unsigned codes) and the Q8_0
// activations, then fma into the sum (MLX: then the bias times the block's activation sum).
// With `magnitude`, the sum of the terms' absolute values instead (for error bounds).
float expected(DType type, const uint8_t* row, const BlockQ8_0* a, int64_t nb,
               bool magnitude = false) {
  const std::optional<MlxAffineSpec> spec = mlx_affine_spec(type);
  const int64_t sub_blocks = group_elems(type) / kQK;
  const size_t code_bytes = spec ? 4 * spec->bits : 0;  // per 32-element block
  const size_t group_bytes = spec                   ? 8 + sub_blocks * code_bytes
                             : type == DType::kQ4_0 ? sizeof(BlockQ4_0)
                                                    : sizeof(BlockQ8_0);
  float acc = 0.0f;
  for (int64_t k = 0; k < nb; ++k) {
    const uint8_t* group = row + (k / sub_blocks) * group_bytes;
    int32_t dot = 0, asum = 0;
    for (int j = 0; j < kQK; ++j) asum += a[k].qs[j];
    const float da = f16_to_f32(a[k].d);
    if (spec) {
      // Codes decoded from the block layout of backend/mlx_affine.h.
      const uint8_t* codes = group + 8 + (k % sub_blocks) * code_bytes;
      for (int j = 0; j < kQK; ++j)
        dot += static_cast<int>(mlx_chunk_code(codes, spec->bits, j)) * a[k].qs[j];
      const float s = f32_at(group), b = f32_at(group + 4);
      const float weight_term = static_cast<float>(dot) * (s * da);
      const float bias_term = b * (da * static_cast<float>(asum));
      if (magnitude) {
        acc += std::fabs(weight_term) + std::fabs(bias_term);
      } else {
        acc = std::fma(static_cast<float>(dot), s * da, acc);
        acc = std::fma(b, da * static_cast<float>(asum), acc);
      }
      continue;
    }
    f16_t dw;
    if (type == DType::kQ4_0) {
      BlockQ4_0 b;
      std::memcpy(&b, group, sizeof(b));
      for (int j = 0; j < 16; ++j)
        dot += ((b.qs[j] & 15) - 8) * a[k].qs[j] + ((b.qs[j] >> 4) - 8) * a[k].qs[j + 16];
      dw = b.d;
    } else {
      BlockQ8_0 b;
      std::memcpy(&b, group, sizeof(b));
      for (int j = 0; j < 32; ++j) dot += b.qs[j] * a[k].qs[j];
      dw = b.d;
    }
    const float scale = f16_to_f32(dw) * da;
    acc = magnitude ? acc + std::fabs(static_cast<float>(dot) * scale)
                    : std::fma(static_cast<float>(dot), scale, acc);
  }
  return acc;
}

// The activation conversion of every level gives the Q8_0 quantization's values (the scalar
// reference's blocks) split into the arrays, for the blocks asked for and no others; zero blocks,
// NaN, infinities and huge values included.
TEST(PanelOps, ActivationConversionMatchesQ8_0AtEveryLevel) {
  constexpr int64_t kCols = 32 * 37;
  constexpr int64_t nb = kCols / kQK;
  std::vector<float> x = testing::random_floats(kCols, 9);
  for (int i = 0; i < kQK; ++i) x[5 * kQK + i] = 0.0f;  // an all-zero block
  x[7 * kQK + 3] = std::numeric_limits<float>::quiet_NaN();
  x[8 * kQK + 1] = std::numeric_limits<float>::infinity();
  x[9 * kQK + 30] = -3e38f;
  x[10 * kQK] = 1e-40f;  // subnormal
  std::vector<BlockQ8_0> blocks(nb);
  type_ops(DType::kQ8_0, IsaLevel::kScalar).from_float(x.data(), blocks.data(), kCols);
  const size_t stride = panel_act_row_bytes(kCols);
  for (DType type : {DType::kQ4_0, DType::kMlxQ4G64})
    for (IsaLevel level : {IsaLevel::kScalar, IsaLevel::kAvx512}) {
      const PanelOps* ops = panel_ops(type, level);
      if (!ops) continue;  // no AVX-512 on this CPU
      for (auto [k0, k1] : {std::pair<int64_t, int64_t>{0, nb}, {3, 4}, {11, nb}}) {
        AlignedBuffer got(stride);
        std::memset(got.data(), 0x5A, stride);
        ops->quantize(x.data(), nb, k0, k1, ops->start_factor, got.data());
        const auto* qs = reinterpret_cast<const int8_t*>(got.data());
        const auto* d = reinterpret_cast<const float*>(got.data() + panel_act_d_offset(nb));
        const auto* start =
            reinterpret_cast<const int32_t*>(got.data() + panel_act_start_offset(nb));
        for (int64_t k = 0; k < nb; ++k) {
          if (k < k0 || k >= k1) {  // untouched
            uint32_t dw;
            std::memcpy(&dw, &d[k], 4);
            EXPECT_EQ(dw, 0x5A5A5A5Au) << "block " << k;
            continue;
          }
          int32_t sum = 0;
          for (int e = 0; e < kQK; ++e) {
            ASSERT_EQ(qs[k * kQK + e], blocks[k].qs[e]) << "block " << k << " element " << e;
            sum += blocks[k].qs[e];
          }
          EXPECT_EQ(std::bit_cast<uint32_t>(d[k]), std::bit_cast<uint32_t>(f16_to_f32(blocks[k].d)))
              << "block " << k;
          EXPECT_EQ(start[k], ops->start_factor * sum) << "block " << k;
        }
      }
    }
}

TEST(PanelOps, TablesCoverLegacyAndMlxTypes) {
  // Q4_0, Q8_0 and every MLX affine width and group size.
  EXPECT_EQ(std::size(kPanelTypes), 2u + 6u * 3u);
  for (int bits : {2, 3, 4, 5, 6, 8})
    for (int group : {32, 64, 128})
      EXPECT_NE(panel_ops(*mlx_affine_type({bits, group}), IsaLevel::kScalar), nullptr)
          << bits << " bits, group " << group;
  for (DType type : kPanelTypes) {
    const PanelOps* ref = panel_ops(type, IsaLevel::kScalar);
    ASSERT_NE(ref, nullptr);
    EXPECT_EQ(ref->type, type);
    EXPECT_EQ(panel_ops(type, IsaLevel::kAvx2), nullptr);
  }
  EXPECT_EQ(panel_ops(DType::kQ4_1, IsaLevel::kScalar), nullptr);
  EXPECT_EQ(panel_ops(DType::kQ4_K, IsaLevel::kAvx512), nullptr);
  // The panel form has the file layout's size for whole panels.
  EXPECT_EQ(panel_matrix_bytes(*panel_ops(DType::kQ4_0, IsaLevel::kScalar), 128, 2048),
            static_cast<size_t>(dtype_bytes(DType::kQ4_0, 2048)) * 128);
  EXPECT_EQ(panel_matrix_bytes(*panel_ops(DType::kQ8_0, IsaLevel::kScalar), 64, 96),
            static_cast<size_t>(dtype_bytes(DType::kQ8_0, 96)) * 64);
  // MLX types at every width: the panel form is the block form's size (codes stay packed).
  for (DType type : kPanelTypes) {
    if (!mlx_affine_spec(type)) continue;
    const PanelOps& ops = *panel_ops(type, IsaLevel::kScalar);
    EXPECT_EQ(ops.chunks, mlx_affine_spec(type)->bits) << dtype_name(type);
    EXPECT_EQ(panel_matrix_bytes(ops, 128, 640), static_cast<size_t>(dtype_bytes(type, 640)) * 128)
        << dtype_name(type);
  }
}

// The scalar reference on packed panels equals the defining formula on the file layout, bit for
// bit, for every row including those of a partial last panel.
TEST(PanelOps, ReferenceMatchesFileLayoutFormula) {
  uint32_t seed = 5;
  for (DType type : kPanelTypes) {
    const PanelOps& ops = *panel_ops(type, IsaLevel::kScalar);
    for (int64_t rows : {1, 17, 64, 70}) {
      for (int64_t groups : {1, 3, 10}) {
        const int64_t cols = groups * group_elems(type), nb = cols / kQK, tokens = 3;
        const Packed p = pack(type, rows, cols, seed++);
        const std::vector<float> x = testing::random_floats(tokens * cols, seed++);
        const AlignedBuffer acts = make_acts(ops, x, tokens, cols);
        std::vector<BlockQ8_0> q8(tokens * nb);
        type_ops(DType::kQ8_0, IsaLevel::kScalar).from_float(x.data(), q8.data(), tokens * cols);
        const size_t stride = panel_act_row_bytes(cols);
        for (int64_t panel = 0; panel * kPanelRows < rows; ++panel) {
          const int n = static_cast<int>(std::min<int64_t>(kPanelRows, rows - panel * kPanelRows));
          for (int g = 0; g * kPanelGroupRows < n; ++g) {
            const int gr = std::min(kPanelGroupRows, n - g * kPanelGroupRows);
            std::vector<float> out(tokens * 16, -1.0f);
            ops.gemm(nb, p.panels.data() + panel * panel_bytes(ops, cols), g, acts.data(), stride,
                     tokens, out.data(), 16, gr);
            for (int t = 0; t < tokens; ++t) {
              for (int i = 0; i < gr; ++i) {
                const int64_t r = panel * kPanelRows + g * kPanelGroupRows + i;
                EXPECT_EQ(out[t * 16 + i],
                          expected(type, p.file.data() + r * p.row_bytes, &q8[t * nb], nb))
                    << dtype_name(type) << " row " << r << " token " << t << " cols " << cols;
              }
              for (int i = gr; i < 16; ++i) EXPECT_EQ(out[t * 16 + i], -1.0f);
            }
          }
        }
      }
    }
  }
}

// The panel kernels (the reference and, where present, the fast ones; decode and prefill shapes)
// agree with the row-block reference kernels of the file layout (TypeOps at kScalar) within
// float summation error.
TEST(PanelOps, AgreesWithRowBlockReferenceKernels) {
  uint32_t seed = 700;
  for (DType type : kPanelTypes) {
    const TypeOps& rowblock = type_ops(type, IsaLevel::kScalar);
    ASSERT_EQ(rowblock.act_type, DType::kQ8_0) << dtype_name(type);
    const int64_t rows = 70, tokens = 3, cols = 3 * group_elems(type), nb = cols / kQK;
    const Packed p = pack(type, rows, cols, seed++);
    const std::vector<float> x = testing::random_floats(tokens * cols, seed++);
    std::vector<BlockQ8_0> q8(tokens * nb);
    type_ops(DType::kQ8_0, IsaLevel::kScalar).from_float(x.data(), q8.data(), tokens * cols);
    for (const IsaLevel level : {IsaLevel::kScalar, cpu_features().level}) {
      const PanelOps* ops = panel_ops(type, level);
      if (!ops) continue;
      const AlignedBuffer acts = make_acts(*ops, x, tokens, cols);
      const size_t stride = panel_act_row_bytes(cols);
      for (int64_t panel = 0; panel * kPanelRows < rows; ++panel) {
        const uint8_t* pd = p.panels.data() + panel * panel_bytes(*ops, cols);
        const int n = static_cast<int>(std::min<int64_t>(kPanelRows, rows - panel * kPanelRows));
        std::vector<float> decode(kPanelRows), prefill(tokens * kPanelRows);
        const PanelJob job{pd, decode.data(), n};
        ops->decode(nb, &job, 1, acts.data());
        for (int g = 0; g * kPanelGroupRows < n; ++g)
          ops->gemm(nb, pd, g, acts.data(), stride, tokens, prefill.data() + g * kPanelGroupRows,
                    kPanelRows, std::min(kPanelGroupRows, n - g * kPanelGroupRows));
        for (int i = 0; i < n; ++i) {
          const int64_t r = panel * kPanelRows + i;
          const uint8_t* row = p.file.data() + r * p.row_bytes;
          for (int t = 0; t < tokens; ++t) {
            float want = 0.0f;
            rowblock.gemm(cols, row, p.row_bytes, 1, &q8[t * nb], sizeof(BlockQ8_0) * nb, 1, &want,
                          1);
            const float mag = expected(type, row, &q8[t * nb], nb, true);
            const double tol = 4.0 * (nb + 8) * std::ldexp(1.0, -24) * mag + 1e-30;
            EXPECT_NEAR(prefill[t * kPanelRows + i], want, tol)
                << dtype_name(type) << " row " << r << " token " << t;
            if (t == 0) {
              EXPECT_NEAR(decode[i], want, tol) << dtype_name(type) << " row " << r;
            }
          }
        }
      }
    }
  }
}

// Every kernel shape of the fast kernels gives the reference's results exactly and writes only
// its rows: prefill tiles of one group x 1..max_acts tokens, decode of 1..kPanelMaxJobs panels in
// any order (whole and partial panels mixed).
TEST(PanelOps, FastKernelsMatchReferenceExactly) {
  if (cpu_features().level < IsaLevel::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU";
  uint32_t seed = 101;
  for (DType type : kPanelTypes) {
    const PanelOps& ref = *panel_ops(type, IsaLevel::kScalar);
    const PanelOps& fast = *panel_ops(type, IsaLevel::kAvx512);
    ASSERT_NE(&fast, nullptr);
    for (int64_t groups : {1, 5, 65}) {
      const int64_t cols = groups * group_elems(type), nb = cols / kQK, rows = 3 * 64 + 37;
      const int64_t num_panels = (rows + kPanelRows - 1) / kPanelRows;
      const Packed p = pack(type, rows, cols, seed++);
      const int tokens = fast.max_acts;
      const std::vector<float> x = testing::random_floats(tokens * cols, seed++);
      const AlignedBuffer acts = make_acts(ref, x, tokens, cols);
      const size_t stride = panel_act_row_bytes(cols), out_stride = kPanelRows + 5;
      const auto panel_data = [&](int64_t panel) {
        return p.panels.data() + panel * panel_bytes(ref, cols);
      };
      const auto panel_rows = [&](int64_t panel) {
        return static_cast<int>(std::min<int64_t>(kPanelRows, rows - panel * kPanelRows));
      };
      for (int num_jobs = 1; num_jobs <= kPanelMaxJobs; ++num_jobs) {
        for (int64_t first = 0; first < num_panels; ++first) {
          // Jobs on panels first, first - 1, ... (wrapping), so the partial panel takes every slot.
          auto run = [&](const PanelOps& ops) {
            std::vector<float> out(num_jobs * out_stride, -3.0f);
            PanelJob jobs[kPanelMaxJobs];
            for (int j = 0; j < num_jobs; ++j) {
              const int64_t panel = (first + num_panels - j) % num_panels;
              jobs[j] = {panel_data(panel), out.data() + j * out_stride, panel_rows(panel)};
            }
            ops.decode(nb, jobs, num_jobs, acts.data());
            return out;
          };
          EXPECT_EQ(run(fast), run(ref))
              << dtype_name(type) << " cols " << cols << " jobs " << num_jobs << " first " << first;
        }
      }
      for (int64_t panel : {int64_t{0}, num_panels - 1}) {
        const int n = panel_rows(panel);
        auto run = [&](const PanelOps& ops, int g, int na, int nr) {
          std::vector<float> out(tokens * out_stride, -3.0f);
          ops.gemm(nb, panel_data(panel), g, acts.data(), stride, na, out.data(), out_stride, nr);
          return out;
        };
        for (int g = 0; g < kPanelGroups; ++g) {
          const int gr = std::clamp(n - g * kPanelGroupRows, 1, kPanelGroupRows);
          for (int na = 1; na <= fast.max_acts; ++na)
            EXPECT_EQ(run(fast, g, na, gr), run(ref, g, na, gr))
                << dtype_name(type) << " cols " << cols << " group " << g << " acts " << na;
        }
      }
    }
  }
}

// matmul_row: every thread produces its own copy of a single token's input (once), and the
// results are those of matmul() on the row, on panels (a shared region) and on the file layout
// (the calling thread produces every copy, thread 0's last, and multiplies that one).
TEST(PanelOps, MatmulRowTakesEachThreadsOwnInput) {
  uint32_t seed = 400;
  for (DType type : kPanelTypes) {
    const PanelOps* ops = panel_ops(type);
    if (!ops) GTEST_SKIP() << "no panel kernels at this ISA level";
    const int64_t rows = 150, cols = 8 * group_elems(type);
    const Packed p = pack(type, rows, cols, seed++);
    const MatrixRef file{type, rows, cols, p.file.data(), p.row_bytes};
    MatrixRef packed = file;
    packed.panels = p.panels.data();
    const std::vector<float> x = testing::random_floats(cols, seed++);
    for (const int threads : {1, 3}) {
      ThreadPool pool(threads);
      MatmulScratch scratch;
      scratch.reserve(1, cols, threads);
      for (const MatrixRef& m : {packed, file}) {
        std::vector<float> want(rows), got(rows, -1.0f);
        matmul(m, x.data(), 1, want.data(), pool, scratch);
        std::vector<std::vector<float>> copies(threads);
        std::vector<int> calls(threads);
        std::atomic<int> last{-1};
        const MatmulTarget target{m, got.data()};
        matmul_row(
            {&target, 1},
            [&](int idx) {
              ++calls[idx];
              last = idx;
              copies[idx] = x;
              return static_cast<const float*>(copies[idx].data());
            },
            pool, scratch);
        EXPECT_EQ(got, want) << dtype_name(type) << " threads " << threads;
        EXPECT_EQ(calls, std::vector<int>(threads, 1)) << dtype_name(type);
        if (threads == 1 || !m.panels) {
          EXPECT_EQ(last, 0) << "thread 0's copy is produced last";
        }
      }
    }
  }
}

// gated_ffn_row gives the results of its unfused steps, bit for bit, on panels of every type (down
// of the same type, and of another), with a last panel of 32 rows where the types allow it, on
// 1 to 3 threads (3: runs of steps that other threads interrupt), and on the file layout.
TEST(PanelOps, GatedFeedForwardRowEqualsItsSteps) {
  uint32_t seed = 500;
  const auto silu = [](float* g, const float* u, int64_t n) { vec_ops().silu_mul(g, u, n); };
  for (DType type : kPanelTypes) {
    if (!panel_ops(type)) GTEST_SKIP() << "no panel kernels at this ISA level";
    for (DType down_type : {type, DType::kQ8_0}) {
      const int64_t g = std::max(group_elems(type), group_elems(down_type));
      const int64_t cols = 4 * group_elems(type), ff = g == 32 ? 160 : 3 * g, rows = 96;
      const Packed pg = pack(type, ff, cols, seed++), pu = pack(type, ff, cols, seed++);
      const Packed pd = pack(down_type, rows, ff, seed++);
      // Small enough that the hidden row's Q8_0 scales stay within half range.
      std::vector<float> x = testing::random_floats(cols, seed++);
      for (float& v : x) v *= 1.0f / 64;
      const auto matrix = [](DType t, const Packed& p, int64_t r, int64_t c, bool panels) {
        return MatrixRef{t, r, c, p.file.data(), p.row_bytes, panels ? p.panels.data() : nullptr};
      };
      for (const bool panels : {true, false}) {
        const MatrixRef wg = matrix(type, pg, ff, cols, panels);
        const MatrixRef wu = matrix(type, pu, ff, cols, panels);
        const MatrixRef wd = matrix(down_type, pd, rows, ff, panels);
        ThreadPool one(1);
        MatmulScratch scratch;
        scratch.reserve(1, ff, 3);
        std::vector<float> want_gate(ff), want_up(ff), want(rows);
        const MatmulTarget unfused[] = {{wg, want_gate.data()}, {wu, want_up.data()}};
        matmul(unfused, x.data(), 1, one, scratch);
        silu(want_gate.data(), want_up.data(), ff);
        matmul(wd, want_gate.data(), 1, want.data(), one, scratch);
        for (const int threads : {1, 2, 3}) {
          ThreadPool pool(threads);
          MatmulScratch fresh;  // nothing left from an earlier call
          fresh.reserve(1, ff, threads);
          std::memset(fresh.data(), 0x5A, fresh.size_bytes());
          std::vector<float> gate(ff, -1.0f), up(ff, -1.0f), got(rows, -1.0f);
          std::vector<int> calls(threads);
          gated_ffn_row(
              {wg, gate.data()}, {wu, up.data()}, {wd, got.data()},
              [&](int idx) {
                ++calls[idx];
                return x.data();
              },
              silu, pool, fresh);
          const std::string what = std::string(dtype_name(type)) + " down " +
                                   std::string(dtype_name(down_type)) + " threads " +
                                   std::to_string(threads) + (panels ? "" : " file layout");
          EXPECT_EQ(got, want) << what;
          EXPECT_EQ(gate, want_gate) << what;
          EXPECT_EQ(up, want_up) << what;
          EXPECT_EQ(calls, std::vector<int>(threads, 1)) << what;
        }
      }
    }
  }
}

// A token region runs a chain of single-token steps, each thread computing its own copy of a
// step's input from the outputs that all threads wrote in the step before (so every step must
// end with all outputs visible to all), and gives the results of the same steps each run as a
// parallel region of its own. The scratch is shared with such regions before and between token
// regions, and the steps' matrices differ in size (the decode words carry over, stale, from one
// step to the next).
TEST(PanelOps, TokenRegionStepsEqualRegionsOfTheirOwn) {
  uint32_t seed = 600;
  const auto silu = [](float* g, const float* u, int64_t n) { vec_ops().silu_mul(g, u, n); };
  for (DType type : kPanelTypes) {
    if (!panel_ops(type)) GTEST_SKIP() << "no panel kernels at this ISA level";
    const int64_t g = group_elems(type);
    const int64_t cols = 4 * g, ff = g == 32 ? 160 : 3 * g, extra = 96;
    const auto matrix = [&](int64_t r, int64_t c, std::vector<Packed>& keep) {
      const Packed& p = keep.emplace_back(pack(type, r, c, seed++));
      return MatrixRef{type, r, c, p.file.data(), p.row_bytes, p.panels.data()};
    };
    std::vector<Packed> keep;
    keep.reserve(5);
    const MatrixRef a = matrix(cols, cols, keep), b = matrix(extra, cols, keep);
    const MatrixRef wg = matrix(ff, cols, keep), wu = matrix(ff, cols, keep);
    const MatrixRef wd = matrix(cols, ff, keep);
    const std::vector<float> x0 = testing::random_floats(cols, seed++);
    constexpr int kRounds = 4;
    for (const int threads : {2, 3}) {
      ThreadPool pool(threads);
      MatmulScratch scratch;
      scratch.reserve(1, ff, threads);
      // Outputs of every step: [round][a, b, gate, up, down].
      using Outputs = std::vector<std::array<std::vector<float>, 5>>;
      const auto fresh = [&] {
        Outputs out(kRounds);
        for (auto& r : out)
          r = {std::vector<float>(cols), std::vector<float>(extra), std::vector<float>(ff),
               std::vector<float>(ff), std::vector<float>(cols)};
        return out;
      };
      // Input of round r's first step: x0, then the last round's down output; the second
      // step's: the first's output. Scaled to at most 1/64 in magnitude, so that values stay in
      // range.
      const auto scaled = [](const std::vector<float>& v, std::vector<float>& in) {
        float m = 0;
        for (float e : v) m = std::max(m, std::fabs(e));
        in = v;
        for (float& e : in) e *= 1.0f / (64 * std::max(m, 1.0f));
      };
      const auto first_input = [&](const Outputs& out, int r, std::vector<float>& in) {
        scaled(r == 0 ? x0 : out[r - 1][4], in);
      };
      const auto second_input = [&](const Outputs& out, int r, std::vector<float>& in) {
        scaled(out[r][0], in);
      };
      const auto targets = [&](Outputs& out, int r) {
        return std::array<MatmulTarget, 2>{{{a, out[r][0].data()}, {b, out[r][1].data()}}};
      };
      Outputs want = fresh();
      std::vector<float> in;
      for (int r = 0; r < kRounds; ++r) {
        first_input(want, r, in);
        const auto t = targets(want, r);
        matmul_row(
            t, [&](int) { return static_cast<const float*>(in.data()); }, pool, scratch);
        second_input(want, r, in);
        gated_ffn_row(
            {wg, want[r][2].data()}, {wu, want[r][3].data()}, {wd, want[r][4].data()},
            [&](int) { return static_cast<const float*>(in.data()); }, silu, pool, scratch);
      }
      for (int repeat = 0; repeat < 3; ++repeat) {
        Outputs got = fresh();
        std::vector<std::vector<float>> copies(threads);
        run_token_region(pool, scratch, [&](TokenRegion& region) {
          std::vector<float>& mine = copies[region.idx()];
          for (int r = 0; r < kRounds; ++r) {
            first_input(got, r, mine);
            matmul_row(targets(got, r), mine.data(), region);
            second_input(got, r, mine);
            gated_ffn_row({wg, got[r][2].data()}, {wu, got[r][3].data()}, {wd, got[r][4].data()},
                          mine.data(), silu, region);
          }
        });
        EXPECT_EQ(got, want) << dtype_name(type) << " threads " << threads << " repeat " << repeat;
        // A region of its own between token regions, on the same scratch.
        std::vector<float> y(cols);
        matmul(a, x0.data(), 1, y.data(), pool, scratch);
      }
    }
  }
}

// matmul() on panels agrees with the file-layout path within float summation error, and is
// exactly invariant to batching, thread count and fusing targets into one call.
TEST(PanelOps, MatmulOnPanelsIsInvariantAndAgreesWithFileLayout) {
  uint32_t seed = 300;
  for (DType type : kPanelTypes) {
    const PanelOps* ops = panel_ops(type);
    if (!ops) GTEST_SKIP() << "no panel kernels at this ISA level";
    const int64_t rows = 150, rows2 = 37, tokens = 21;
    const int64_t cols = (576 + group_elems(type) - 1) / group_elems(type) * group_elems(type);
    const Packed p = pack(type, rows, cols, seed++);
    const Packed p2 = pack(type, rows2, cols, seed++);
    AlignedBuffer panels(panel_matrix_bytes(*ops, rows, cols));
    std::memcpy(panels.data(), p.panels.data(), panels.size_bytes());
    const MatrixRef file{type, rows, cols, p.file.data(), p.row_bytes};
    MatrixRef packed = file;
    packed.panels = panels.data();
    MatrixRef packed2{type, rows2, cols, p2.file.data(), p2.row_bytes};
    packed2.panels = p2.panels.data();
    const std::vector<float> x = testing::random_floats(tokens * cols, seed++);

    ThreadPool one(1), three(3);
    MatmulScratch scratch;
    scratch.reserve(tokens, cols, 3);
    std::vector<float> batch(tokens * rows), single(tokens * rows), viafile(tokens * rows);
    std::vector<float> fused(tokens * rows), fused2(tokens * rows2), alone2(tokens * rows2);
    matmul(packed, x.data(), tokens, batch.data(), three, scratch);
    for (int64_t t = 0; t < tokens; ++t)
      matmul(packed, x.data() + t * cols, 1, single.data() + t * rows, t % 2 ? one : three,
             scratch);
    EXPECT_EQ(batch, single) << dtype_name(type);

    const MatmulTarget targets[] = {{packed, fused.data()}, {packed2, fused2.data()}};
    matmul(targets, x.data(), tokens, three, scratch);
    matmul(packed2, x.data(), tokens, alone2.data(), one, scratch);
    EXPECT_EQ(fused, batch) << dtype_name(type);
    EXPECT_EQ(fused2, alone2) << dtype_name(type);
    matmul(targets, x.data(), 1, three, scratch);  // single-token fused region
    EXPECT_TRUE(std::equal(fused.begin(), fused.begin() + rows, batch.begin()));
    EXPECT_TRUE(std::equal(fused2.begin(), fused2.begin() + rows2, alone2.begin()));

    // Both paths add the same exact block results in different orders.
    matmul(file, x.data(), tokens, viafile.data(), three, scratch);
    const int64_t nb = cols / kQK;
    std::vector<BlockQ8_0> q8(tokens * nb);
    type_ops(DType::kQ8_0, IsaLevel::kScalar).from_float(x.data(), q8.data(), tokens * cols);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        const float mag = expected(type, p.file.data() + r * p.row_bytes, &q8[t * nb], nb, true);
        const double tol = 4.0 * (nb + 8) * std::ldexp(1.0, -24) * mag + 1e-30;
        EXPECT_NEAR(batch[t * rows + r], viafile[t * rows + r], tol)
            << dtype_name(type) << " row " << r << " token " << t;
      }
    }
  }
}

}  // namespace
}  // namespace inferd::backend::cpu
