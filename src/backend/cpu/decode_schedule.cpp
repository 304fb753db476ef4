#include "backend/cpu/decode_schedule.h"

#include <algorithm>
#include <tuple>

#include "base/check.h"
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

namespace {
constexpr int kStepBits = 24;
constexpr uint64_t kStepMask = (uint64_t{1} << kStepBits) - 1;
constexpr uint64_t kGenMask = 0xffff;

uint64_t pack(uint32_t gen, int64_t front, int64_t back) {
  return (gen & kGenMask) << (2 * kStepBits) | static_cast<uint64_t>(back) << kStepBits |
         static_cast<uint64_t>(front);
}
}  // namespace

uint64_t unclaimed_steps(uint32_t gen, int64_t front, int64_t back) {
  INFERD_CHECK(front >= 0 && back >= 0 &&
               static_cast<uint64_t>(std::max(front, back)) <= kStepMask);
  return pack(gen, front, back);
}

bool claim_step(std::atomic_ref<uint64_t> word, uint32_t gen, int64_t num_steps, bool from_back,
                int64_t* step) {
  // Relaxed: the word only divides the work; the region's join or barrier orders the outputs.
  uint64_t w = word.load(std::memory_order_relaxed);
  for (;;) {
    if ((w >> (2 * kStepBits)) != (gen & kGenMask)) {  // another region's: set it up
      const uint64_t fresh = unclaimed_steps(gen, 0, num_steps);
      if (word.compare_exchange_weak(w, fresh, std::memory_order_relaxed)) w = fresh;
      continue;
    }
    const int64_t front = static_cast<int64_t>(w & kStepMask);
    const int64_t back = static_cast<int64_t>((w >> kStepBits) & kStepMask);
    if (front >= back) return false;
    const uint64_t next = from_back ? pack(gen, front, back - 1) : pack(gen, front + 1, back);
    if (word.compare_exchange_weak(w, next, std::memory_order_relaxed)) {
      *step = from_back ? back - 1 : front;
      return true;
    }
  }
}

}  // namespace inferd::backend::cpu
