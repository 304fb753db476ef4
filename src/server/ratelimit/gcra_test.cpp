// GCRA against a token bucket (capacity L, one token back every emission interval, starting
// full) kept in exact integer microseconds: the two are the same policy stated two ways, so
// every decision, Retry-After, remaining count and reset time must agree.
#include "server/ratelimit/gcra.h"

#include <random>

#include <gtest/gtest.h>

namespace inferd::server::ratelimit {
namespace {

class TokenBucket {
 public:
  TokenBucket(uint32_t limit, int64_t start_us)
      : limit_(limit),
        interval_us_(emission_interval_us(limit)),
        level_us_(interval_us_ * limit),
        last_us_(start_us) {}

  // Returns 0 when admitted, else the wait until a token is there.
  int64_t take(int64_t now_us) {
    refill(now_us);
    if (level_us_ >= interval_us_) {
      level_us_ -= interval_us_;
      return 0;
    }
    return interval_us_ - level_us_;
  }
  uint32_t remaining(int64_t now_us) {
    refill(now_us);
    return static_cast<uint32_t>(level_us_ / interval_us_);
  }
  int64_t reset_us(int64_t now_us) {
    refill(now_us);
    return interval_us_ * limit_ - level_us_;
  }

 private:
  void refill(int64_t now_us) {
    level_us_ = std::min(level_us_ + (now_us - last_us_), interval_us_ * limit_);
    last_us_ = now_us;
  }
  uint32_t limit_;
  int64_t interval_us_;
  int64_t level_us_;
  int64_t last_us_;
};

TEST(GcraTest, EmissionIntervalRoundsUp) {
  EXPECT_EQ(emission_interval_us(1), 60'000'000);
  EXPECT_EQ(emission_interval_us(10), 6'000'000);
  EXPECT_EQ(emission_interval_us(7), 8'571'429);
}

TEST(GcraTest, FreshSubjectTakesExactlyItsBurst) {
  const int64_t now = 1'000'000'000;
  int64_t tat = 0;
  for (int i = 0; i < 10; ++i) {
    const GcraStep s = gcra_request(tat, now, 10);
    ASSERT_TRUE(s.admitted) << i;
    tat = s.tat_us;
    EXPECT_EQ(gcra_remaining(tat, now, 10), static_cast<uint32_t>(9 - i));
    EXPECT_EQ(gcra_reset_us(tat, now), (i + 1) * 6'000'000);
  }
  const GcraStep refused = gcra_request(tat, now, 10);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.tat_us, tat);
  EXPECT_EQ(refused.retry_after_us, 6'000'000);
  // One interval later exactly one more passes.
  EXPECT_TRUE(gcra_request(tat, now + 6'000'000, 10).admitted);
  EXPECT_FALSE(
      gcra_request(gcra_request(tat, now + 6'000'000, 10).tat_us, now + 6'000'000, 10).admitted);
}

TEST(GcraTest, AgreesWithTokenBucketOnRandomTraffic) {
  std::mt19937_64 rng(7);
  for (uint32_t limit : {1u, 2u, 7u, 10u, 60u, 1000u}) {
    const int64_t interval_us = emission_interval_us(limit);
    int64_t now = 5'000'000'000;
    TokenBucket bucket(limit, now);
    int64_t tat = 0;
    for (int i = 0; i < 20'000; ++i) {
      // Bursts (no time passes), steady traffic near the rate, and long quiet gaps.
      switch (rng() % 4) {
        case 0: break;
        case 1: now += static_cast<int64_t>(rng() % static_cast<uint64_t>(interval_us)); break;
        case 2: now += interval_us - 1 + static_cast<int64_t>(rng() % 3); break;
        default: now += static_cast<int64_t>(rng() % (3 * kRateWindowUs / 2)); break;
      }
      const int64_t want_wait = bucket.take(now);
      const GcraStep s = gcra_request(tat, now, limit);
      ASSERT_EQ(s.admitted, want_wait == 0) << "limit " << limit << " step " << i;
      if (!s.admitted) {
        ASSERT_EQ(s.retry_after_us, want_wait);
      }
      tat = s.tat_us;
      ASSERT_EQ(gcra_remaining(tat, now, limit), bucket.remaining(now));
      ASSERT_EQ(gcra_reset_us(tat, now), bucket.reset_us(now));
    }
  }
}

TEST(GcraTest, TokenBudgetIsSpentAfterAMinuteOfTokens) {
  const int64_t now = 1'000'000'000;
  // 1000 tokens per minute: 60 ms a token.
  int64_t tat = charge_token_tat(0, now, 999, 1000);
  EXPECT_EQ(tat, now + 999 * 60'000);
  EXPECT_EQ(token_retry_after_us(tat, now), 0);
  tat = charge_token_tat(tat, now, 501, 1000);  // overshoot by half a minute
  EXPECT_EQ(token_retry_after_us(tat, now), 30'000'001);
  EXPECT_EQ(token_retry_after_us(tat, now + 30'000'000), 1);
  EXPECT_EQ(token_retry_after_us(tat, now + 30'000'001), 0);
  // Time spent idle does not bank tokens beyond one minute's budget.
  EXPECT_EQ(charge_token_tat(tat, tat + 600'000'000, 10, 1000), tat + 600'000'000 + 600'000);
}

TEST(GcraTest, HugeTokenChargesSaturate) {
  const int64_t now = 1'000'000'000;
  const int64_t tat = charge_token_tat(0, now, UINT64_MAX, 1);
  EXPECT_EQ(tat, now + kMaxTokenDebtUs);
  EXPECT_EQ(charge_token_tat(tat, now, UINT64_MAX, 1), now + kMaxTokenDebtUs);
  EXPECT_GT(token_retry_after_us(tat, now), 0);
}

}  // namespace
}  // namespace inferd::server::ratelimit
