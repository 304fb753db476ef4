#include "backend/cpu/decode_schedule.h"

#include <algorithm>
#include <tuple>

#include "base/thread_pool.h"

namespace inferd::backend::cpu {

DecodeShare::DecodeShare(int64_t total, int idx, int num, int max_streams) {
  std::tie(first, end) = ThreadPool::split(total, idx, num);
  streams = static_cast<int>(std::clamp<int64_t>(end - first, 1, max_streams));
  steps = (end - first) / streams;
  rest = first + streams * steps;
}

int DecodeShare::panels(int64_t step, int64_t* out) const {
  int n = 0;
  if (step < steps) {
    for (int s = 0; s < streams; ++s) out[n++] = first + s * steps + step;
  } else {
    for (int64_t p = rest; p < end; ++p) out[n++] = p;
  }
  return n;
}

uint64_t unclaimed_steps(int64_t front, int64_t back) {
  return static_cast<uint64_t>(back) << 32 | static_cast<uint64_t>(front);
}

bool claim_step(std::atomic_ref<uint64_t> word, bool from_back, int64_t* step) {
  uint64_t w = word.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t front = static_cast<uint32_t>(w), back = static_cast<uint32_t>(w >> 32);
    if (front >= back) return false;
    const uint64_t next =
        from_back ? unclaimed_steps(front, back - 1) : unclaimed_steps(front + 1, back);
    // Relaxed: the word only divides the work; the region's join orders the outputs.
    if (word.compare_exchange_weak(w, next, std::memory_order_relaxed)) {
      *step = from_back ? back - 1 : front;
      return true;
    }
  }
}

}  // namespace inferd::backend::cpu
