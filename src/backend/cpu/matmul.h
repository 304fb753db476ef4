// Matrix multiplication of a weight matrix (any computable DType, in its file layout) with a
// batch of float activations, on the CPU thread pool. This is where nearly all inference time
// goes; it is written to run at the memory-bandwidth limit for one token (decode) and to reuse
// each loaded weight block across many tokens (prefill).
#pragma once

#include <cstdint>
#include <span>

#include "backend/dtype.h"
#include "base/aligned_buffer.h"
#include "base/function_ref.h"
#include "base/thread_pool.h"

namespace inferd::backend::cpu {

// A row-major weight matrix: `rows` rows of `cols` elements, each row `row_bytes` apart.
struct MatrixRef {
  DType type = DType::kF32;
  int64_t rows = 0;
  int64_t cols = 0;
  // The file layout; nullptr when its owner released it after packing panels (then `panels` is
  // set, and nothing may read rows through `data`).
  const void* data = nullptr;
  // dtype_bytes(type, cols) for a dense matrix; data and row_bytes keep each row aligned to its
  // element (4 bytes for F32, 2 for the other types, as in GGUF files).
  size_t row_bytes = 0;
  // The same matrix in the panel layout (panel_ops.h), or nullptr. When set, matmul reads the
  // panels instead of `data` (which, unless released, stays valid for row lookups such as
  // embeddings).
  const uint8_t* panels = nullptr;
};

// One matrix of a matmul over a shared input, and where its outputs go.
struct MatmulTarget {
  MatrixRef w;
  float* y = nullptr;
};

// Scratch memory for matmul: sized once for the largest call, then reused without allocating.
class MatmulScratch {
 public:
  // Ensures room, for calls on a pool of up to `num_threads` threads, for `num_tokens`
  // activation rows of `cols` elements of any activation type, and for one row per thread and
  // one more (single-token calls convert their input on every thread instead of sharing the
  // work and waiting at a barrier; gated_ffn_row hands a converted row from one region to the
  // next).
  void reserve(int64_t num_tokens, int64_t cols, int num_threads);
  uint8_t* data() { return buffer_.data(); }
  size_t size_bytes() const { return buffer_.size_bytes(); }

  struct Header;  // at the start of data() (matmul.cpp)
  Header* header() { return reinterpret_cast<Header*>(buffer_.data()); }

 private:
  AlignedBuffer buffer_;
};

// y[t * w.rows + r] = sum_k w[r, k] * x[t * w.cols + k] for t < num_tokens.
// REQUIRES scratch.reserve(num_tokens, w.cols, n) was called with n >= pool.num_threads() (no
// allocation happens here);
// x and y do not overlap. Runs one parallel region on `pool`: the threads first convert x to
// the weight type's activation type (TypeOps::act_type, e.g. Q8_0 for Q4_0 weights; F32 is used
// in place), each a share of the blocks, then each thread multiplies its own contiguous range
// of rows in tiles of TypeOps::max_rows rows x max_acts tokens. Each output is computed by the
// same operations in the same order whatever the thread count and whichever other tokens share
// the call, so results do not depend on batching. One scratch per concurrent caller.
//
// Matrices with panels use the panel kernels instead (one unit of work is a panel of 64 rows);
// their results follow the same invariance rules.
void matmul(const MatrixRef& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch);

// matmul() of every target with the same input x (all targets have the same cols): results
// identical to separate calls. When all targets have panels of one type they share one
// parallel region and one conversion of x (the q/k/v or gate/up projections of a layer).
void matmul(std::span<const MatmulTarget> targets, const float* x, int64_t num_tokens,
            ThreadPool& pool, MatmulScratch& scratch);

// The input row of a single-token matmul_row as thread `idx` of the region sees it.
using RowSource = FunctionRef<const float*(int idx)>;

// matmul() of a single token whose input every thread of the region produces itself: each
// thread first calls input(idx) and converts the row it returns. Every call must return the same
// values (e.g. each thread updating and normalising its own copy of the residual stream), so
// that the elementwise work before a matmul runs inside its region, on all threads at once,
// instead of on one thread between regions while the others wait. Where the targets share no
// region (no panels, or one thread) the calling thread calls input for every idx, idx 0 last,
// and multiplies that row. Results are those of matmul() on that row.
void matmul_row(std::span<const MatmulTarget> targets, RowSource input, ThreadPool& pool,
                MatmulScratch& scratch);

// An elementwise gate activation: gate[i] = f(gate[i], up[i]) for i < n, each element's result
// independent of n and of the other elements.
using GateFn = FunctionRef<void(float* gate, const float* up, int64_t n)>;

// The gated feed-forward block of a single token whose input every thread produces itself (as
// in matmul_row): up.y = up.w x, gate.y = act(gate.w x, up.y), then down.y = down.w gate.y
// (REQUIRES gate.w.rows == up.w.rows == down.w.cols). Results are those of matmul_row on gate
// and up, act on the whole row, then matmul on it. When all three matrices have panels (gate and
// up of one type) and the pool has several threads, the threads split gate and up by pairs of
// panels (panel j of both), and a thread that has computed a run of pairs applies act to their
// rows and converts them for down's kernels while they are in its cache: down's region then
// starts on one converted row, instead of each thread reading the others' outputs to convert the
// whole row itself.
void gated_ffn_row(const MatmulTarget& gate, const MatmulTarget& up, const MatmulTarget& down,
                   RowSource input, GateFn act, ThreadPool& pool, MatmulScratch& scratch);

// One thread's part of a token region: a single parallel region in which every thread of the pool
// runs a single token's whole sequence of steps (its forward pass) instead of one region per
// matmul. Each thread makes the same calls in the same order, passing its own TokenRegion; a call
// returns once every thread has finished its work, so what one thread wrote before a call is
// visible to all after it. The calls below are the token region forms of the functions above,
// with the same results; the matrices must have panels (runs_in_token_region).
class TokenRegion {
 public:
  int idx() const { return idx_; }
  int num() const { return num_; }
  // Waits until every thread of the region has called sync as often as this one.
  void sync();

 private:
  friend class StepThreads;
  friend void run_token_region(ThreadPool&, MatmulScratch&, FunctionRef<void(TokenRegion&)>);
  TokenRegion(int idx, int num, MatmulScratch& scratch, uint32_t generation)
      : idx_(idx), num_(num), scratch_(scratch), generation_(generation) {}

  int idx_;
  int num_;
  MatmulScratch& scratch_;
  uint32_t generation_;  // of this thread's last step (every thread counts the same steps)
};

// Runs fn(region) on every thread of the pool as one parallel region (REQUIRES
// scratch.reserve(1, cols, n) for every cols of the calls, with n >= pool.num_threads()).
void run_token_region(ThreadPool& pool, MatmulScratch& scratch,
                      FunctionRef<void(TokenRegion& region)> fn);

// Whether the targets can share one panel region, which the token region calls require.
bool runs_in_token_region(std::span<const MatmulTarget> targets);

// matmul_row in a token region: x is this thread's copy of the input row.
void matmul_row(std::span<const MatmulTarget> targets, const float* x, TokenRegion& region);

// gated_ffn_row in a token region: x is this thread's copy of the input row.
void gated_ffn_row(const MatmulTarget& gate, const MatmulTarget& up, const MatmulTarget& down,
                   const float* x, GateFn act, TokenRegion& region);

}  // namespace inferd::backend::cpu
