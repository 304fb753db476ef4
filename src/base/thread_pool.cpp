#include "base/thread_pool.h"

#include <immintrin.h>
#include <sched.h>

#include <algorithm>

namespace inferd {
namespace {
// Spin iterations before a worker sleeps: 0.1-0.5 ms (a pause takes 5-25 ns, depending on the
// processor), longer than the gap between two regions of one forward pass or between two decode
// steps, shorter than the gap between requests. Waking a sleeping worker costs far more: 0.15-0.35
// ms on a 2-core virtual machine.
constexpr int kSpinIterations = 20000;
// Spin iterations of the caller waiting for the workers at the end of a region before it yields.
constexpr int kJoinSpinIterations = 4096;
}  // namespace

int ThreadPool::default_num_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0 ? num_threads : default_num_threads()) {
  workers_.reserve(num_threads_ - 1);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

std::pair<int64_t, int64_t> ThreadPool::split(int64_t n, int idx, int num, int64_t align) {
  const int64_t units = (n + align - 1) / align;
  const int64_t per = units / num, extra = units % num;
  const int64_t begin_units = idx * per + std::min<int64_t>(idx, extra);
  const int64_t end_units = begin_units + per + (idx < extra ? 1 : 0);
  return {std::min(n, begin_units * align), std::min(n, end_units * align)};
}

void ThreadPool::run(FunctionRef<void(int, int)> fn) {
  if (num_threads_ == 1) {
    fn(0, 1);
    return;
  }
  fn_ = &fn;
  pending_.store(num_threads_ - 1, std::memory_order_relaxed);
  // Sequentially consistent with the sleeper count: either this load sees a worker about to
  // wait, or that worker's wait sees the new generation.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  fn(0, num_threads_);
  // A worker that has not started yet may be queued on this very core (a busy machine): after a
  // short spin, yield so that it can run instead of waiting out this thread's time slice.
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0;) {
    if (++spins < kJoinSpinIterations) {
      _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::worker_main(int idx) {
  // Workers start before the first region, so generation 0 is the last one they have "seen"
  // even if run() is called before this thread gets to load the counter.
  uint32_t seen = 0;
  for (;;) {
    uint32_t now;
    int spins = 0;
    while ((now = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        _mm_pause();
      } else {
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        generation_.wait(seen, std::memory_order_seq_cst);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    seen = now;
    if (stop_.load(std::memory_order_acquire)) return;
    (*fn_)(idx, num_threads_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace inferd
