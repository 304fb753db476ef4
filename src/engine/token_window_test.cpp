#include "inferd/token_window.h"

#include <algorithm>
#include <deque>
#include <map>
#include <random>

#include <gtest/gtest.h>

namespace inferd {
namespace {

// Checks every count and the distinct list against a plain recount of the last `window` tokens.
void expect_matches(const TokenWindow& w, const std::deque<TokenId>& recent, int vocab) {
  std::map<TokenId, int32_t> want;
  for (TokenId t : recent) ++want[t];
  ASSERT_EQ(w.num_tokens(), recent.size());
  for (TokenId t = 0; t < vocab; ++t) ASSERT_EQ(w.count(t), want.count(t) ? want[t] : 0) << t;
  std::map<TokenId, int32_t> got;
  for (const auto& e : w.distinct()) {
    ASSERT_GT(e.count, 0);
    ASSERT_TRUE(got.emplace(e.id, e.count).second) << "token " << e.id << " listed twice";
  }
  EXPECT_EQ(got, want);
}

TEST(TokenWindow, MatchesARecountForEveryWindowSize) {
  constexpr int kVocab = 17;
  for (int32_t window : {-1, 1, 2, 5, 64}) {
    TokenWindow w(kVocab, window);
    std::deque<TokenId> recent;
    std::mt19937 rng(static_cast<uint32_t>(window + 10));
    for (int step = 0; step < 400; ++step) {
      // Skewed draws so tokens repeat, leave and come back.
      const auto t = static_cast<TokenId>(std::min(rng() % kVocab, rng() % kVocab));
      w.push(t);
      recent.push_back(t);
      if (window > 0 && recent.size() > static_cast<size_t>(window)) recent.pop_front();
      ASSERT_NO_FATAL_FAILURE(expect_matches(w, recent, kVocab)) << "window " << window;
    }
  }
}

TEST(TokenWindow, ZeroWindowCountsNothing) {
  TokenWindow w(10, 0);
  for (TokenId t : {1, 2, 2, 3}) w.push(t);
  EXPECT_EQ(w.count(2), 0);
  EXPECT_TRUE(w.distinct().empty());
  EXPECT_EQ(w.num_tokens(), 0u);
}

TEST(TokenWindow, OutOfRangeCountIsZero) {
  TokenWindow w(10, -1);
  w.push(9);
  EXPECT_EQ(w.count(9), 1);
  EXPECT_EQ(w.count(10), 0);
  EXPECT_EQ(w.count(-1), 0);
}

}  // namespace
}  // namespace inferd
