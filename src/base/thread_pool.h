// ThreadPool: a fixed set of worker threads that run one parallel region at a time.
//
// run(fn) calls fn(thread_idx, num_threads) once on every thread (the caller is thread 0) and
// returns when all calls have finished. It allocates nothing, so it may be used in the decode
// loop. Workers spin briefly between regions (regions come microseconds apart during inference)
// and then sleep. Thread safety: one caller at a time; run() must not be called from inside fn.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "base/function_ref.h"

namespace inferd {

class ThreadPool {
 public:
  // num_threads <= 0 means one thread per available core.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }

  void run(FunctionRef<void(int thread_idx, int num_threads)> fn);

  // [begin, end) of `n` items for thread `idx` of `num`, in multiples of `align` items
  // (the last range takes the remainder).
  static std::pair<int64_t, int64_t> split(int64_t n, int idx, int num, int64_t align = 1);

  static int default_num_threads();

 private:
  void worker_main(int idx);

  int num_threads_;
  std::vector<std::thread> workers_;
  const FunctionRef<void(int, int)>* fn_ = nullptr;  // the current region's
  alignas(64) std::atomic<uint32_t> generation_{0};
  // Workers blocked in generation_.wait (the caller notifies only when there are some: a
  // notification is a system call, and regions start thousands of times per second).
  std::atomic<int> sleepers_{0};
  alignas(64) std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace inferd
