#include "backend/cpu/matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "backend/cpu/panel_ops.h"
#include "backend/cpu/type_ops.h"
#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

// Scratch layout: one cache line holding the barrier counter, one holding the panel work
// counter, then activation rows, each padded to a cache line so that every row starts aligned.
constexpr size_t kLineBytes = 64;
constexpr int64_t kQK = 32;
constexpr size_t kHeaderBytes = 2 * kLineBytes;

// Types gemm kernels take activations in (TypeOps::act_type), other than F32 (used in place).
constexpr DType kActTypes[] = {DType::kQ8_0, DType::kQ8_K, DType::kF16, DType::kBF16};

// Prefill keeps a chunk of activation rows of about this size hot in L2 while every row tile of
// the thread's weights streams past it.
constexpr size_t kActChunkBytes = 384 * 1024;

size_t round_up(size_t v, size_t to) {
  return (v + to - 1) / to * to;
}

size_t act_row_bytes(DType act_type, int64_t cols) {
  return round_up(static_cast<size_t>(dtype_bytes(act_type, cols)), kLineBytes);
}

// Waits until all `num` threads of the region have arrived. `counter` is 0 before the region.
void barrier(std::atomic_ref<int> counter, int num) {
  counter.fetch_add(1, std::memory_order_acq_rel);
  int spins = 0;
  while (counter.load(std::memory_order_acquire) < num) {
    if (++spins < 4096) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

// Converts activation rows [t0, t1) x blocks [k0, k1) of the flat range of blocks
// [begin, end) over all rows, so threads can share the conversion of even a single row.
void convert_activations(const TypeOps& act_ops, const float* x, int64_t cols, int64_t begin,
                         int64_t end, uint8_t* act, size_t act_stride) {
  const DTypeInfo& info = dtype_info(act_ops.type);
  const int64_t blocks_per_row = cols / info.block_elems;
  for (int64_t b = begin; b < end;) {
    const int64_t t = b / blocks_per_row, k = b % blocks_per_row;
    const int64_t count = std::min(end - b, blocks_per_row - k);
    act_ops.from_float(x + t * cols + k * info.block_elems,
                       act + t * act_stride + k * info.block_bytes, count * info.block_elems);
    b += count;
  }
}

void matmul_panel_run(std::span<const MatmulTarget> targets, const PanelOps& ops,
                      const uint8_t* a, size_t act_stride, int64_t num_tokens, int64_t chunk_acts,
                      int64_t p0, int64_t p1);

// Panel matmul of targets that all have panels of ops' type and the same cols. Work unit: one
// panel of 64 rows of any target, handed out to the threads in runs. Decode (one token) runs the
// 64-row kernel on each panel; prefill runs 16-row x max_acts-token tiles, each panel's weights
// staying in cache while a chunk of activation rows passes.
void matmul_panels(std::span<const MatmulTarget> targets, const PanelOps& ops, const float* x,
                   int64_t num_tokens, ThreadPool& pool, MatmulScratch& scratch) {
  const int64_t cols = targets[0].w.cols, nb = cols / kQK;
  const size_t act_stride = panel_act_row_bytes(cols);
  const int num_threads = pool.num_threads();
  INFERD_CHECK_MSG(kHeaderBytes + num_tokens * act_stride <= scratch.size_bytes(),
                   "MatmulScratch::reserve was not called for this shape");
  const bool private_acts =
      num_tokens == 1 && kHeaderBytes + num_threads * act_stride <= scratch.size_bytes();
  int64_t total_panels = 0;
  for (const MatmulTarget& t : targets) {
    INFERD_CHECK(t.w.cols == cols && t.w.type == ops.type && t.w.panels);
    total_panels += (t.w.rows + kPanelRows - 1) / kPanelRows;
  }
  uint8_t* act = scratch.data() + kHeaderBytes;
  *reinterpret_cast<int*>(scratch.data()) = 0;
  auto* next_panel = reinterpret_cast<int64_t*>(scratch.data() + kLineBytes);
  *next_panel = 0;
  const int64_t chunk_acts = std::max<int64_t>(
      ops.max_acts,
      static_cast<int64_t>(kActChunkBytes / act_stride) / ops.max_acts * ops.max_acts);

  pool.run([&](int idx, int num) {
    const uint8_t* a = act;
    if (private_acts) {
      uint8_t* mine = act + idx * act_stride;
      quantize_panel_acts(ops, x, cols, 0, nb, mine);
      a = mine;
    } else {
      const auto [b0, b1] = ThreadPool::split(num_tokens * nb, idx, num);
      for (int64_t b = b0; b < b1;) {
        const int64_t t = b / nb, k = b % nb, n = std::min(b1 - b, nb - k);
        quantize_panel_acts(ops, x + t * cols, cols, k, k + n, act + t * act_stride);
        b += n;
      }
      if (num > 1) barrier(std::atomic_ref<int>(*reinterpret_cast<int*>(scratch.data())), num);
    }
    // Panels are taken from a shared counter in shrinking runs (guided scheduling), so that a
    // thread slowed by the machine does not hold up the region; which thread computes a panel
    // does not change its results.
    std::atomic_ref<int64_t> next(*next_panel);
    const int64_t min_run = num_tokens == 1 ? 2 : 1;
    for (;;) {
      const int64_t seen = next.load(std::memory_order_relaxed);
      const int64_t run = std::max(min_run, (total_panels - seen) / (2 * num));
      const int64_t p0 = next.fetch_add(run, std::memory_order_relaxed);
      if (p0 >= total_panels) break;
      const int64_t p1 = std::min(total_panels, p0 + run);
      matmul_panel_run(targets, ops, a, act_stride, num_tokens, chunk_acts, p0, p1);
    }
  });
}

// Panels [p0, p1) of the concatenated targets, for every token.
void matmul_panel_run(std::span<const MatmulTarget> targets, const PanelOps& ops,
                      const uint8_t* a, size_t act_stride, int64_t num_tokens, int64_t chunk_acts,
                      int64_t p0, int64_t p1) {
  const int64_t nb = targets[0].w.cols / kQK;
  const size_t panel_stride = panel_bytes(ops, targets[0].w.cols);
    for (int64_t c0 = 0; c0 < num_tokens; c0 += chunk_acts) {
      const int64_t c1 = std::min(num_tokens, c0 + chunk_acts);
      size_t ti = 0;
      int64_t first = 0;  // index of targets[ti]'s first panel
      for (int64_t p = p0; p < p1; ++p) {
        int64_t target_panels = (targets[ti].w.rows + kPanelRows - 1) / kPanelRows;
        while (p >= first + target_panels) {
          first += target_panels;
          target_panels = (targets[++ti].w.rows + kPanelRows - 1) / kPanelRows;
        }
        const MatrixRef& w = targets[ti].w;
        const int64_t j = p - first;
        const uint8_t* panel = w.panels + j * panel_stride;
        const int rows = static_cast<int>(std::min<int64_t>(kPanelRows, w.rows - j * kPanelRows));
        float* y = targets[ti].y + j * kPanelRows;
        const size_t ys = static_cast<size_t>(w.rows);
        if (c1 - c0 == 1) {
          ops.gemm(nb, panel, 0, kPanelGroups, a + c0 * act_stride, act_stride, 1, y + c0 * ys, ys,
                   rows);
          continue;
        }
        for (int g = 0; g * kPanelGroupRows < rows; ++g) {
          const int gr = std::min(kPanelGroupRows, rows - g * kPanelGroupRows);
          for (int64_t t = c0; t < c1; t += ops.max_acts) {
            const int nt = static_cast<int>(std::min<int64_t>(ops.max_acts, c1 - t));
            ops.gemm(nb, panel, g, 1, a + t * act_stride, act_stride, nt,
                     y + t * ys + g * kPanelGroupRows, ys, gr);
          }
        }
      }
    }
}

}  // namespace

void MatmulScratch::reserve(int64_t num_tokens, int64_t cols, int num_threads) {
  size_t row_bytes = 0;
  for (DType t : kActTypes)
    if (cols % dtype_info(t).block_elems == 0)
      row_bytes = std::max(row_bytes, act_row_bytes(t, cols));
  if (cols % kQK == 0) row_bytes = std::max(row_bytes, panel_act_row_bytes(cols));
  const int64_t rows = std::max<int64_t>(num_tokens, num_threads);
  const size_t need = kHeaderBytes + static_cast<size_t>(rows) * row_bytes;
  if (need > buffer_.size_bytes()) buffer_.resize(need);
}

void matmul(std::span<const MatmulTarget> targets, const float* x, int64_t num_tokens,
            ThreadPool& pool, MatmulScratch& scratch) {
  if (num_tokens <= 0 || targets.empty()) return;
  const PanelOps* ops = panel_ops(targets[0].w.type);
  bool fused = ops != nullptr;
  for (const MatmulTarget& t : targets)
    fused = fused && t.w.panels && t.w.type == targets[0].w.type && t.w.cols == targets[0].w.cols;
  if (fused) {
    matmul_panels(targets, *ops, x, num_tokens, pool, scratch);
    return;
  }
  for (const MatmulTarget& t : targets) matmul(t.w, x, num_tokens, t.y, pool, scratch);
}

void matmul(const MatrixRef& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch) {
  if (num_tokens <= 0 || w.rows <= 0) return;
  if (w.panels) {
    const PanelOps* pops = panel_ops(w.type);
    INFERD_CHECK_MSG(pops && w.cols % pops->group_elems == 0,
                     "panels of a type without panel kernels");
    const MatmulTarget target{w, y};
    matmul_panels({&target, 1}, *pops, x, num_tokens, pool, scratch);
    return;
  }
  INFERD_CHECK_MSG(w.data, "matrix with neither data nor panels");
  const TypeOps& ops = type_ops(w.type);
  INFERD_CHECK(w.cols > 0 && w.cols % dtype_info(w.type).block_elems == 0);
  INFERD_CHECK(w.row_bytes >= static_cast<size_t>(dtype_bytes(w.type, w.cols)));

  // Activations in the kernel's format: F32 in place, anything else converted into scratch.
  const bool convert = ops.act_type != DType::kF32;
  const TypeOps* act_ops = convert ? &type_ops(ops.act_type) : nullptr;
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_stride = static_cast<size_t>(w.cols) * sizeof(float);
  int64_t act_blocks = 0;
  if (convert) {
    INFERD_CHECK(w.cols % dtype_info(ops.act_type).block_elems == 0);
    act_stride = act_row_bytes(ops.act_type, w.cols);
    INFERD_CHECK_MSG(kHeaderBytes + num_tokens * act_stride <= scratch.size_bytes(),
                     "MatmulScratch::reserve was not called for this shape");
    act = scratch.data() + kHeaderBytes;
    act_blocks = num_tokens * (w.cols / dtype_info(ops.act_type).block_elems);
    *reinterpret_cast<int*>(scratch.data()) = 0;
  }

  const int64_t tile_rows = ops.max_rows, tile_acts = ops.max_acts;
  const int64_t chunk_acts = std::max<int64_t>(
      tile_acts, static_cast<int64_t>(kActChunkBytes / act_stride) / tile_acts * tile_acts);
  const auto* wdata = static_cast<const uint8_t*>(w.data);

  pool.run([&](int idx, int num) {
    if (convert) {
      const auto [b0, b1] = ThreadPool::split(act_blocks, idx, num);
      convert_activations(*act_ops, x, w.cols, b0, b1, scratch.data() + kHeaderBytes, act_stride);
      if (num > 1) barrier(std::atomic_ref<int>(*reinterpret_cast<int*>(scratch.data())), num);
    }
    const auto [r0, r1] = ThreadPool::split(w.rows, idx, num, tile_rows);
    for (int64_t c0 = 0; c0 < num_tokens; c0 += chunk_acts) {
      const int64_t c1 = std::min(num_tokens, c0 + chunk_acts);
      for (int64_t r = r0; r < r1; r += tile_rows) {
        const int nr = static_cast<int>(std::min(tile_rows, r1 - r));
        for (int64_t t = c0; t < c1; t += tile_acts) {
          const int nt = static_cast<int>(std::min(tile_acts, c1 - t));
          ops.gemm(w.cols, wdata + r * w.row_bytes, w.row_bytes, nr, act + t * act_stride,
                   act_stride, nt, y + t * w.rows + r, static_cast<size_t>(w.rows));
        }
      }
    }
  });
}

}  // namespace inferd::backend::cpu
