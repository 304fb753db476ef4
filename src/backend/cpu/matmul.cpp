#include "backend/cpu/matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "backend/cpu/decode_schedule.h"
#include "backend/cpu/panel_ops.h"
#include "backend/cpu/type_ops.h"
#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

constexpr size_t kLineBytes = 64;
constexpr int64_t kQK = 32;

}  // namespace

// Scratch layout: this header (a cache line for the barrier, one for the prefill panel counter
// and the generation of the last single-token step), then a cache line per pool thread whose
// first word holds its unclaimed decode steps (decode_schedule.h), then activation rows, each
// padded to a cache line so that every row starts aligned. All zero when allocated.
struct MatmulScratch::Header {
  alignas(kLineBytes) int arrived;  // threads waiting at the barrier
  uint32_t phase;                   // barriers passed
  alignas(kLineBytes) int64_t next_panel;
  uint32_t generation;
};

namespace {

size_t header_bytes(int num_threads) {
  return sizeof(MatmulScratch::Header) + static_cast<size_t>(num_threads) * kLineBytes;
}

// The word holding thread t's unclaimed decode steps.
std::atomic_ref<uint64_t> steps_word(MatmulScratch::Header& h, int t) {
  return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(
      reinterpret_cast<uint8_t*>(&h) + sizeof(MatmulScratch::Header) + t * kLineBytes));
}

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

// Waits until all `num` threads of the region have arrived; what each wrote before is then
// visible to all. Successive barriers of one region reuse the header's counter, which the caller
// sets to 0 before the region.
void barrier(MatmulScratch::Header& h, int num) {
  if (num == 1) return;
  std::atomic_ref<int> arrived(h.arrived);
  std::atomic_ref<uint32_t> phase(h.phase);
  const uint32_t passed = phase.load(std::memory_order_acquire);
  if (arrived.fetch_add(1, std::memory_order_acq_rel) == num - 1) {
    arrived.store(0, std::memory_order_relaxed);
    phase.store(passed + 1, std::memory_order_release);
    return;
  }
  for (int spins = 0; phase.load(std::memory_order_acquire) == passed;) {
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

// Panel p of the concatenated targets: its target and its index there.
std::pair<const MatmulTarget*, int64_t> locate_panel(std::span<const MatmulTarget> targets,
                                                     int64_t p) {
  for (const MatmulTarget& t : targets) {
    const int64_t n = (t.w.rows + kPanelRows - 1) / kPanelRows;
    if (p < n) return {&t, p};
    p -= n;
  }
  INFERD_CHECK_MSG(false, "panel index past the targets");
  __builtin_unreachable();
}

PanelJob panel_job(const MatmulTarget& t, int64_t j, size_t panel_stride) {
  return {t.w.panels + j * panel_stride, t.y + j * kPanelRows,
          static_cast<int>(std::min<int64_t>(kPanelRows, t.w.rows - j * kPanelRows))};
}

PanelJob panel_job(std::span<const MatmulTarget> targets, size_t panel_stride, int64_t p) {
  const auto [t, j] = locate_panel(targets, p);
  return panel_job(*t, j, panel_stride);
}

void decode_step(std::span<const MatmulTarget> targets, const PanelOps& ops, const uint8_t* a,
                 const DecodeShare& share, int64_t step) {
  const size_t panel_stride = panel_bytes(ops, targets[0].w.cols);
  int64_t panels[kPanelMaxJobs];
  PanelJob jobs[kPanelMaxJobs];
  const int n = share.panels(step, panels);
  for (int j = 0; j < n; ++j) jobs[j] = panel_job(targets, panel_stride, panels[j]);
  ops.decode(targets[0].w.cols / kQK, jobs, n, a);
}

// Prefill of panels [p0, p1) of the concatenated targets: 16-row x max_acts-token tiles, each
// panel's weights staying in cache while a chunk of chunk_acts activation rows passes.
void prefill_panels(std::span<const MatmulTarget> targets, const PanelOps& ops, const uint8_t* a,
                    size_t act_stride, int64_t num_tokens, int64_t chunk_acts, int64_t p0,
                    int64_t p1) {
  const int64_t nb = targets[0].w.cols / kQK;
  const size_t panel_stride = panel_bytes(ops, targets[0].w.cols);
  for (int64_t c0 = 0; c0 < num_tokens; c0 += chunk_acts) {
    const int64_t c1 = std::min(num_tokens, c0 + chunk_acts);
    for (int64_t p = p0; p < p1; ++p) {
      const auto [target, j] = locate_panel(targets, p);
      const PanelJob job = panel_job(*target, j, panel_stride);
      const size_t ys = static_cast<size_t>(target->w.rows);
      for (int g = 0; g * kPanelGroupRows < job.rows; ++g) {
        const int gr = std::min(kPanelGroupRows, job.rows - g * kPanelGroupRows);
        for (int64_t t = c0; t < c1; t += ops.max_acts) {
          const int nt = static_cast<int>(std::min<int64_t>(ops.max_acts, c1 - t));
          ops.gemm(nb, job.panel, g, a + t * act_stride, act_stride, nt,
                   job.out + t * ys + g * kPanelGroupRows, ys, gr);
        }
      }
    }
  }
}

}  // namespace

// The threads that run a single-token step: a region of its own on the pool, or every thread of
// a token region, each calling with its own index (the step then ends at the region's barrier).
// Either way a step gets a generation of its own for its decode words (decode_schedule.h): the
// scratch counts the steps of pool regions and token regions alike.
class StepThreads {
 public:
  StepThreads(ThreadPool& pool, MatmulScratch& scratch) : pool_(&pool), scratch_(scratch) {}
  explicit StepThreads(TokenRegion& region) : region_(&region), scratch_(region.scratch_) {}

  int num() const { return region_ ? region_->num() : pool_->num_threads(); }
  MatmulScratch& scratch() const { return scratch_; }

  // Calls fn(idx, num, generation) on every thread and returns when all calls have finished.
  template <typename Fn>
  void run(Fn&& fn) {
    if (region_) {
      fn(region_->idx(), region_->num(), ++region_->generation_);
      region_->sync();
      return;
    }
    const uint32_t generation = ++scratch_.header()->generation;
    pool_->run([&](int idx, int num) { fn(idx, num, generation); });
  }

 private:
  ThreadPool* pool_ = nullptr;
  TokenRegion* region_ = nullptr;
  MatmulScratch& scratch_;
};

namespace {

// A single-token step over `units` work units under the DecodeShare schedule: each thread
// takes its activation row from acts(idx), then claims its own share's steps from the front and
// the others' from the back, running step(a, share, step) for each, and done(share, s0, s1) for
// each run [s0, s1) of consecutive steps of one share it ran, once the run ends.
template <typename Acts, typename Step, typename Done>
void decode_region(int64_t units, int streams, Acts&& acts, Step&& step, Done&& done,
                   StepThreads& threads) {
  MatmulScratch::Header& h = *threads.scratch().header();
  threads.run([&](int idx, int num, uint32_t generation) {
    const uint8_t* a = acts(idx);
    for (int k = 0; k < num; ++k) {
      const int owner = (idx + k) % num;
      const DecodeShare share(units, owner, num, streams);
      const std::atomic_ref<uint64_t> word = steps_word(h, owner);
      int64_t s = 0, s0 = 0, s1 = 0;  // the current run
      while (claim_step(word, generation, share.num_steps(), k > 0, &s)) {
        if (s != s1 && s + 1 != s0) {
          if (s0 < s1) done(share, s0, s1);
          s0 = s1 = s;
        }
        step(a, share, s);
        s0 = std::min(s0, s);
        s1 = std::max(s1, s + 1);
      }
      if (s0 < s1) done(share, s0, s1);
    }
  });
}

// Panels of the targets (all have panels of ops' type and the same cols) and the activation rows
// after the scratch header, checked against the scratch's size.
int64_t total_panels(std::span<const MatmulTarget> targets, const PanelOps& ops, int64_t act_rows,
                     int num_threads, const MatmulScratch& scratch) {
  const int64_t cols = targets[0].w.cols;
  INFERD_CHECK_MSG(
      header_bytes(num_threads) + act_rows * panel_act_row_bytes(cols) <= scratch.size_bytes(),
      "MatmulScratch::reserve was not called for this shape and pool");
  int64_t total = 0;
  for (const MatmulTarget& t : targets) {
    INFERD_CHECK(t.w.cols == cols && t.w.type == ops.type && t.w.panels);
    total += (t.w.rows + kPanelRows - 1) / kPanelRows;
  }
  return total;
}

// The single-token panel matmul (see matmul_panels): each thread converts its own input row into
// its own activation row (no barrier), then claims steps under the DecodeShare schedule.
void decode_panels(std::span<const MatmulTarget> targets, const PanelOps& ops, RowSource input,
                   StepThreads& threads) {
  const int64_t cols = targets[0].w.cols;
  const size_t act_stride = panel_act_row_bytes(cols);
  const int64_t panels =
      total_panels(targets, ops, threads.num(), threads.num(), threads.scratch());
  uint8_t* act = threads.scratch().data() + header_bytes(threads.num());
  decode_region(
      panels, ops.streams,
      [&](int idx) {
        uint8_t* a = act + idx * act_stride;
        quantize_panel_acts(ops, input(idx), cols, 0, cols / kQK, a);
        return a;
      },
      [&](const uint8_t* a, const DecodeShare& share, int64_t step) {
        decode_step(targets, ops, a, share, step);
      },
      [](const DecodeShare&, int64_t, int64_t) {}, threads);
}

// Panel matmul of targets that all have panels of ops' type and the same cols, on the input rows
// input(thread) (see matmul_row). Work unit: one panel of 64 rows of any target. Decode follows the
// DecodeShare schedule (decode_panels); prefill hands the panels out from a shared counter in
// shrinking runs (guided scheduling). Either way a thread slowed by the machine does not hold up
// the region, and which thread computes a panel does not change its results.
void matmul_panels(std::span<const MatmulTarget> targets, const PanelOps& ops, RowSource input,
                   int64_t num_tokens, ThreadPool& pool, MatmulScratch& scratch) {
  if (num_tokens == 1) {
    StepThreads threads(pool, scratch);
    decode_panels(targets, ops, input, threads);
    return;
  }
  const int64_t cols = targets[0].w.cols, nb = cols / kQK;
  const size_t act_stride = panel_act_row_bytes(cols);
  const int64_t panels = total_panels(targets, ops, num_tokens, pool.num_threads(), scratch);
  MatmulScratch::Header& h = *scratch.header();
  uint8_t* act = scratch.data() + header_bytes(pool.num_threads());
  h.arrived = 0;
  h.next_panel = 0;
  const int64_t chunk_acts =
      std::max<int64_t>(ops.max_acts, static_cast<int64_t>(kActChunkBytes / act_stride) /
                                          ops.max_acts * ops.max_acts);

  pool.run([&](int idx, int num) {
    const float* x = input(idx);
    const auto [b0, b1] = ThreadPool::split(num_tokens * nb, idx, num);
    for (int64_t b = b0; b < b1;) {
      const int64_t t = b / nb, k = b % nb, n = std::min(b1 - b, nb - k);
      quantize_panel_acts(ops, x + t * cols, cols, k, k + n, act + t * act_stride);
      b += n;
    }
    barrier(h, num);
    std::atomic_ref<int64_t> next(h.next_panel);
    for (;;) {
      const int64_t seen = next.load(std::memory_order_relaxed);
      const int64_t run = std::max<int64_t>(1, (panels - seen) / (2 * num));
      const int64_t p0 = next.fetch_add(run, std::memory_order_relaxed);
      if (p0 >= panels) break;
      prefill_panels(targets, ops, act, act_stride, num_tokens, chunk_acts, p0,
                     std::min(panels, p0 + run));
    }
  });
}

// The panel kernels of `targets` when they can share one panel region (all have panels, of one
// type, with the same cols); nullptr otherwise.
const PanelOps* shared_panel_ops(std::span<const MatmulTarget> targets) {
  const MatrixRef& w0 = targets[0].w;
  const PanelOps* ops = panel_ops(w0.type);
  for (const MatmulTarget& t : targets)
    if (!ops || !t.w.panels || t.w.type != w0.type || t.w.cols != w0.cols) return nullptr;
  return ops;
}

// gated_ffn_row on panels: `ops` are gate's and up's kernels, `down_ops` down's.
void gated_ffn_panels(const MatmulTarget& gate, const MatmulTarget& up, const MatmulTarget& down,
                      const PanelOps& ops, const PanelOps& down_ops, RowSource input, GateFn act,
                      StepThreads& threads) {
  MatmulScratch& scratch = threads.scratch();
  const int64_t cols = gate.w.cols, ff = gate.w.rows;
  const size_t act_stride = panel_act_row_bytes(cols);
  uint8_t* rows = scratch.data() + header_bytes(threads.num());
  // The activations of down, after the threads' own rows.
  uint8_t* hidden = rows + threads.num() * act_stride;
  INFERD_CHECK_MSG(hidden + panel_act_row_bytes(ff) <= scratch.data() + scratch.size_bytes(),
                   "MatmulScratch::reserve was not called for this shape and pool");
  const size_t panel_stride = panel_bytes(ops, cols);
  // Work unit: panel j of gate and of up. The thread that computes a run of them then finishes
  // those rows of the hidden row while they are in its cache (after the run rather than after
  // each step: a pause between steps would break the streams the core is fetching).
  decode_region(
      (ff + kPanelRows - 1) / kPanelRows, 1,
      [&](int idx) {
        uint8_t* a = rows + idx * act_stride;
        quantize_panel_acts(ops, input(idx), cols, 0, cols / kQK, a);
        return a;
      },
      [&](const uint8_t* a, const DecodeShare& share, int64_t step) {
        const int64_t j = share.first + step;
        const PanelJob jobs[] = {panel_job(gate, j, panel_stride), panel_job(up, j, panel_stride)};
        if (ops.streams >= 2) {
          ops.decode(cols / kQK, jobs, 2, a);
        } else {
          ops.decode(cols / kQK, &jobs[0], 1, a);
          ops.decode(cols / kQK, &jobs[1], 1, a);
        }
      },
      [&](const DecodeShare& share, int64_t s0, int64_t s1) {
        const int64_t r0 = (share.first + s0) * kPanelRows;
        const int64_t r1 = std::min(ff, (share.first + s1) * kPanelRows);
        act(gate.y + r0, up.y + r0, r1 - r0);
        quantize_panel_acts(down_ops, gate.y, ff, r0 / kQK, r1 / kQK, hidden);
      },
      threads);
  const int64_t down_panels = (down.w.rows + kPanelRows - 1) / kPanelRows;
  decode_region(
      down_panels, down_ops.streams, [&](int) { return hidden; },
      [&](const uint8_t* a, const DecodeShare& share, int64_t step) {
        decode_step({&down, 1}, down_ops, a, share, step);
      },
      [](const DecodeShare&, int64_t, int64_t) {}, threads);
}

}  // namespace

void MatmulScratch::reserve(int64_t num_tokens, int64_t cols, int num_threads) {
  size_t row_bytes = 0;
  for (DType t : kActTypes)
    if (cols % dtype_info(t).block_elems == 0)
      row_bytes = std::max(row_bytes, act_row_bytes(t, cols));
  if (cols % kQK == 0) row_bytes = std::max(row_bytes, panel_act_row_bytes(cols));
  // A single token's regions use a row per thread and one more (gated_ffn_row's hidden row).
  const int64_t rows = std::max<int64_t>(num_tokens, num_threads + 1);
  const size_t need = header_bytes(num_threads) + static_cast<size_t>(rows) * row_bytes;
  if (need > buffer_.size_bytes()) buffer_.resize(need);
}

void matmul(std::span<const MatmulTarget> targets, const float* x, int64_t num_tokens,
            ThreadPool& pool, MatmulScratch& scratch) {
  if (num_tokens <= 0 || targets.empty()) return;
  if (const PanelOps* ops = shared_panel_ops(targets)) {
    matmul_panels(
        targets, *ops, [x](int) { return x; }, num_tokens, pool, scratch);
    return;
  }
  for (const MatmulTarget& t : targets) matmul(t.w, x, num_tokens, t.y, pool, scratch);
}

void matmul_row(std::span<const MatmulTarget> targets, RowSource input, ThreadPool& pool,
                MatmulScratch& scratch) {
  if (targets.empty()) return;
  const PanelOps* ops = pool.num_threads() > 1 ? shared_panel_ops(targets) : nullptr;
  if (ops) {
    matmul_panels(targets, *ops, input, 1, pool, scratch);
    return;
  }
  // Without a shared region, this thread produces every thread's copy (thread 0's last).
  const float* x = nullptr;
  for (int t = pool.num_threads() - 1; t >= 0; --t) x = input(t);
  matmul(targets, x, 1, pool, scratch);
}

void matmul(const MatrixRef& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch) {
  if (num_tokens <= 0 || w.rows <= 0) return;
  if (w.panels) {
    const PanelOps* pops = panel_ops(w.type);
    INFERD_CHECK_MSG(pops && w.cols % pops->group_elems == 0,
                     "panels of a type without panel kernels");
    const MatmulTarget target{w, y};
    matmul_panels(
        {&target, 1}, *pops, [x](int) { return x; }, num_tokens, pool, scratch);
    return;
  }
  INFERD_CHECK_MSG(w.data, "matrix with neither data nor panels");
  const TypeOps& ops = type_ops(w.type);
  INFERD_CHECK(w.cols > 0 && w.cols % dtype_info(w.type).block_elems == 0);
  INFERD_CHECK(w.row_bytes >= static_cast<size_t>(dtype_bytes(w.type, w.cols)));

  // Activations in the kernel's format: F32 in place, anything else converted into scratch.
  const bool convert = ops.act_type != DType::kF32;
  const TypeOps* act_ops = convert ? &type_ops(ops.act_type) : nullptr;
  const size_t header = header_bytes(pool.num_threads());
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t act_stride = static_cast<size_t>(w.cols) * sizeof(float);
  int64_t act_blocks = 0;
  if (convert) {
    INFERD_CHECK(w.cols % dtype_info(ops.act_type).block_elems == 0);
    act_stride = act_row_bytes(ops.act_type, w.cols);
    INFERD_CHECK_MSG(header + num_tokens * act_stride <= scratch.size_bytes(),
                     "MatmulScratch::reserve was not called for this shape and pool");
    act = scratch.data() + header;
    act_blocks = num_tokens * (w.cols / dtype_info(ops.act_type).block_elems);
    scratch.header()->arrived = 0;
  }

  const int64_t tile_rows = ops.max_rows, tile_acts = ops.max_acts;
  const int64_t chunk_acts = std::max<int64_t>(
      tile_acts, static_cast<int64_t>(kActChunkBytes / act_stride) / tile_acts * tile_acts);
  const auto* wdata = static_cast<const uint8_t*>(w.data);

  pool.run([&](int idx, int num) {
    if (convert) {
      const auto [b0, b1] = ThreadPool::split(act_blocks, idx, num);
      convert_activations(*act_ops, x, w.cols, b0, b1, scratch.data() + header, act_stride);
      barrier(*scratch.header(), num);
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

void gated_ffn_row(const MatmulTarget& gate, const MatmulTarget& up, const MatmulTarget& down,
                   RowSource input, GateFn act, ThreadPool& pool, MatmulScratch& scratch) {
  const MatmulTarget gate_up[] = {gate, up};
  const PanelOps* ops = shared_panel_ops(gate_up);
  const PanelOps* down_ops = shared_panel_ops({&down, 1});
  INFERD_CHECK(gate.w.rows == up.w.rows && down.w.cols == gate.w.rows);
  if (ops && down_ops && pool.num_threads() > 1) {
    StepThreads threads(pool, scratch);
    gated_ffn_panels(gate, up, down, *ops, *down_ops, input, act, threads);
    return;
  }
  matmul_row(gate_up, input, pool, scratch);
  act(gate.y, up.y, gate.w.rows);
  matmul(down.w, gate.y, 1, down.y, pool, scratch);
}

void run_token_region(ThreadPool& pool, MatmulScratch& scratch,
                      FunctionRef<void(TokenRegion& region)> fn) {
  INFERD_CHECK_MSG(scratch.size_bytes() >= header_bytes(pool.num_threads()),
                   "MatmulScratch::reserve was not called for this pool");
  scratch.header()->arrived = 0;
  uint32_t& generation = scratch.header()->generation;
  uint32_t last = generation;
  pool.run([&, first = generation](int idx, int num) {
    TokenRegion region(idx, num, scratch, first);
    fn(region);
    if (idx == 0) last = region.generation_;  // every thread ran the same steps
  });
  generation = last;
}

void TokenRegion::sync() {
  barrier(*scratch_.header(), num_);
}

bool runs_in_token_region(std::span<const MatmulTarget> targets) {
  return !targets.empty() && shared_panel_ops(targets);
}

void matmul_row(std::span<const MatmulTarget> targets, const float* x, TokenRegion& region) {
  const PanelOps* ops = shared_panel_ops(targets);
  INFERD_CHECK_MSG(ops, "matmul_row in a token region on targets without a shared panel region");
  StepThreads threads(region);
  decode_panels(
      targets, *ops, [x](int) { return x; }, threads);
}

void gated_ffn_row(const MatmulTarget& gate, const MatmulTarget& up, const MatmulTarget& down,
                   const float* x, GateFn act, TokenRegion& region) {
  const MatmulTarget gate_up[] = {gate, up};
  const PanelOps* ops = shared_panel_ops(gate_up);
  const PanelOps* down_ops = shared_panel_ops({&down, 1});
  INFERD_CHECK(gate.w.rows == up.w.rows && down.w.cols == gate.w.rows);
  INFERD_CHECK_MSG(ops && down_ops, "gated_ffn_row in a token region on matrices without panels");
  StepThreads threads(region);
  gated_ffn_panels(
      gate, up, down, *ops, *down_ops, [x](int) { return x; }, act, threads);
}

}  // namespace inferd::backend::cpu
