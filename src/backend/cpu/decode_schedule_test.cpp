#include "backend/cpu/decode_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

namespace inferd::backend::cpu {
namespace {

// Every panel belongs to exactly one step of one share; a step reads at most `streams` panels,
// one from each contiguous part, in order.
TEST(DecodeSchedule, SharesCoverEveryPanelOnce) {
  for (int64_t total : {0, 1, 2, 5, 7, 40, 41, 88, 501})
    for (int num = 1; num <= 4; ++num)
      for (int max_streams = 1; max_streams <= 3; ++max_streams) {
        std::vector<int> seen(total, 0);
        for (int t = 0; t < num; ++t) {
          const DecodeShare share(total, t, num, max_streams);
          EXPECT_LE(share.streams, max_streams);
          int64_t panels[3];
          for (int64_t step = 0; step < share.num_steps(); ++step) {
            const int n = share.panels(step, panels);
            ASSERT_GE(n, 1);
            ASSERT_LE(n, share.streams);
            if (step < share.steps) {
              EXPECT_EQ(n, share.streams);
            }
            for (int j = 0; j < n; ++j) {
              ASSERT_GE(panels[j], share.first);
              ASSERT_LT(panels[j], share.end);
              if (j > 0 && step < share.steps) {
                EXPECT_EQ(panels[j] - panels[j - 1], share.steps);
              }
              ++seen[panels[j]];
            }
          }
        }
        for (int64_t p = 0; p < total; ++p)
          EXPECT_EQ(seen[p], 1) << "panel " << p << " of " << total << ", " << num << " threads";
      }
}

TEST(DecodeSchedule, OwnerClaimsFromTheFrontOthersFromTheBack) {
  uint64_t word = unclaimed_steps(7, 0, 4);
  std::atomic_ref<uint64_t> ref(word);
  int64_t step = -1;
  ASSERT_TRUE(claim_step(ref, 7, 4, false, &step));
  EXPECT_EQ(step, 0);
  ASSERT_TRUE(claim_step(ref, 7, 4, true, &step));
  EXPECT_EQ(step, 3);
  ASSERT_TRUE(claim_step(ref, 7, 4, false, &step));
  EXPECT_EQ(step, 1);
  ASSERT_TRUE(claim_step(ref, 7, 4, true, &step));
  EXPECT_EQ(step, 2);
  EXPECT_FALSE(claim_step(ref, 7, 4, false, &step));
  EXPECT_FALSE(claim_step(ref, 7, 4, true, &step));
  uint64_t empty = unclaimed_steps(1, 0, 0);
  EXPECT_FALSE(claim_step(std::atomic_ref<uint64_t>(empty), 1, 0, true, &step));
}

// A word left by an earlier region (another generation, whatever its steps) starts afresh with
// the new region's steps, whichever thread claims first; within a generation it is not reset.
TEST(DecodeSchedule, AWordOfAnotherGenerationStartsAfresh) {
  for (const uint64_t stale : {unclaimed_steps(3, 2, 2), unclaimed_steps(3, 0, 9), uint64_t{0}}) {
    uint64_t word = stale;
    std::atomic_ref<uint64_t> ref(word);
    int64_t step = -1;
    ASSERT_TRUE(claim_step(ref, 4, 3, true, &step));
    EXPECT_EQ(step, 2);
    ASSERT_TRUE(claim_step(ref, 4, 3, false, &step));
    EXPECT_EQ(step, 0);
    ASSERT_TRUE(claim_step(ref, 4, 3, false, &step));
    EXPECT_EQ(step, 1);
    EXPECT_FALSE(claim_step(ref, 4, 3, false, &step));
    // The generation is kept modulo 2^16.
    ASSERT_TRUE(claim_step(ref, 4 + 65536 + 1, 1, false, &step));
    EXPECT_EQ(step, 0);
    EXPECT_FALSE(claim_step(ref, 5, 1, true, &step));
  }
}

// An owner and two other threads racing over one share claim every step exactly once.
TEST(DecodeSchedule, ConcurrentClaimsTakeEachStepOnce) {
  constexpr int64_t kSteps = 20000;
  for (int round = 0; round < 5; ++round) {
    alignas(64) uint64_t word = 0;  // generation 0: every thread may be the one that sets it up
    std::vector<std::vector<int64_t>> taken(3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        int64_t step = 0;
        while (claim_step(std::atomic_ref<uint64_t>(word), round + 1, kSteps, t > 0, &step))
          taken[t].push_back(step);
      });
    for (auto& th : threads) th.join();
    std::vector<int> count(kSteps, 0);
    for (const auto& v : taken)
      for (int64_t s : v) ++count[s];
    for (int64_t s = 0; s < kSteps; ++s) ASSERT_EQ(count[s], 1) << "step " << s;
    // The owner's steps come in increasing order, the others' in decreasing order.
    EXPECT_TRUE(std::is_sorted(taken[0].begin(), taken[0].end()));
    for (int t = 1; t < 3; ++t) EXPECT_TRUE(std::is_sorted(taken[t].rbegin(), taken[t].rend()));
  }
}

}  // namespace
}  // namespace inferd::backend::cpu
