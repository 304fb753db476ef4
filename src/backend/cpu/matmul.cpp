#include "backend/cpu/matmul.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "backend/cpu/type_ops.h"
#include "base/check.h"

namespace inferd::backend::cpu {
namespace {

// Scratch layout: one cache line holding the barrier counter, then activation rows, each padded
// to a cache line so that every row starts aligned.
constexpr size_t kLineBytes = 64;
constexpr size_t kHeaderBytes = kLineBytes;

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

}  // namespace

void MatmulScratch::reserve(int64_t num_tokens, int64_t cols) {
  size_t row_bytes = 0;
  for (DType t : kActTypes)
    if (cols % dtype_info(t).block_elems == 0)
      row_bytes = std::max(row_bytes, act_row_bytes(t, cols));
  const size_t need = kHeaderBytes + static_cast<size_t>(num_tokens) * row_bytes;
  if (need > buffer_.size_bytes()) buffer_.resize(need);
}

void matmul(const MatrixRef& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            MatmulScratch& scratch) {
  if (num_tokens <= 0 || w.rows <= 0) return;
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
