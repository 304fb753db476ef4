#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace inferd {
namespace {

TEST(ThreadPool, RunsEveryThreadOncePerRegion) {
  for (int n : {1, 2, 3, 5}) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.num_threads(), n);
    for (int region = 0; region < 200; ++region) {
      std::vector<std::atomic<int>> hits(n);
      pool.run([&](int idx, int num) {
        EXPECT_EQ(num, n);
        hits[idx].fetch_add(1);
      });
      for (int i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1);
    }
  }
}

TEST(ThreadPool, SplitCoversRangeWithAlignment) {
  for (int64_t n : {0, 1, 7, 64, 1000, 1001}) {
    for (int num : {1, 2, 3, 8}) {
      int64_t expect_begin = 0;
      for (int idx = 0; idx < num; ++idx) {
        auto [b, e] = ThreadPool::split(n, idx, num, 4);
        EXPECT_EQ(b, expect_begin);
        EXPECT_LE(b, e);
        if (e < n) {
          EXPECT_EQ(e % 4, 0);
        }
        expect_begin = e;
      }
      EXPECT_EQ(expect_begin, n);
    }
  }
}

TEST(ThreadPool, SleepingWorkersWakeUp) {
  ThreadPool pool(2);
  std::atomic<int> sum{0};
  pool.run([&](int, int) { sum++; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let workers fall asleep
  pool.run([&](int, int) { sum++; });
  EXPECT_EQ(sum.load(), 4);
}

}  // namespace
}  // namespace inferd
