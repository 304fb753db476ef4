// TilePrefetch: software prefetch of the weights a gemm tile kernel will read next.
//
// A tile reads its R rows in short interleaved runs (a few dozen bytes of each row per step),
// which hardware prefetchers follow poorly once the data comes from DRAM. Rows are contiguous,
// so the next tile is the R * w_stride bytes after the current one; each step of the kernel
// prefetches an equal share of those lines in address order, so they arrive a tile ahead.
// Prefetches never fault, so reading ahead past the end of a matrix is harmless.
//
// Included by kernel files compiled for different ISA levels: its functions are always inlined
// so that no out-of-line copy compiled for one level can be linked into another.
#pragma once

#include <xmmintrin.h>

#include <cstddef>
#include <cstdint>

namespace inferd::backend::cpu {

class TilePrefetch {
 public:
  // `tile` is the first byte of the current tile, `tile_bytes` its size (R * w_stride), and the
  // kernel will call step() `num_steps` times.
  [[gnu::always_inline]] TilePrefetch(const void* tile, size_t tile_bytes, int64_t num_steps)
      : next_(static_cast<const char*>(tile) + tile_bytes),
        bytes_per_step_(static_cast<int64_t>(tile_bytes) / (num_steps > 0 ? num_steps : 1)) {}

  [[gnu::always_inline]] void step() {
    credit_ += bytes_per_step_;
    for (; credit_ > 0; credit_ -= kLineBytes, next_ += kLineBytes)
      _mm_prefetch(next_, _MM_HINT_T0);
  }

 private:
  static constexpr int64_t kLineBytes = 64;
  const char* next_;
  int64_t bytes_per_step_;
  int64_t credit_ = 0;  // bytes of the next tile due for prefetch, minus those requested
};

}  // namespace inferd::backend::cpu
