#include "sched/sequence_priority.h"

#include <vector>

#include <gtest/gtest.h>

namespace inferd::sched {
namespace {

TEST(SequencePriorityTest, AdmitsHighestPriorityThenOldest) {
  const std::vector<SequenceRank> waiting = {{0, 1}, {2, 5}, {2, 3}, {1, 0}};
  EXPECT_EQ(next_to_admit(waiting), 2u);
  EXPECT_FALSE(next_to_admit({}));
}

TEST(SequencePriorityTest, PreemptsLowestPriorityThenNewest) {
  const std::vector<SequenceRank> running = {{0, 1}, {0, 4}, {1, 9}, {0, 7}};
  EXPECT_EQ(preemption_victim(running), 3u);
  EXPECT_EQ(preemption_victim(std::span(running).first(3)), 1u);
  EXPECT_FALSE(preemption_victim({}));
}

}  // namespace
}  // namespace inferd::sched
