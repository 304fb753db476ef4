#include "server/audit/anomaly_detector.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

// `n` requests of `key` in `minute`, `errors` of them failed; the flags after the last one.
std::vector<std::string> burst(AnomalyDetector& d, const std::string& key, int64_t minute, int n, int errors = 0) {
  std::vector<std::string> flags;
  for (int i = 0; i < n; ++i) flags = d.record(key, i < errors, minute).kinds;
  return flags;
}

TEST(AnomalyDetectorTest, FlagsARateFarAboveTheKeysOwnBaseline) {
  AnomalyDetector d;
  for (int m = 0; m < 10; ++m) EXPECT_TRUE(burst(d, "vista/a", m, 10).empty()) << m;
  EXPECT_TRUE(burst(d, "vista/a", 10, 40).empty());  // 4x its baseline of 10
  // The baseline after ten minutes of 10 is 8.93: the 45th request of the minute is the first
  // above 5 times it.
  for (int i = 41; i < 45; ++i) EXPECT_TRUE(d.record("vista/a", false, 10).kinds.empty()) << i;
  const auto flagged = d.record("vista/a", false, 10);
  EXPECT_EQ(flagged.kinds, std::vector<std::string>{"request_rate"});
  EXPECT_TRUE(flagged.new_this_minute);
  const auto again = d.record("vista/a", false, 10);
  EXPECT_EQ(again.kinds, std::vector<std::string>{"request_rate"});
  EXPECT_FALSE(again.new_this_minute);
  // Another key's baseline is its own: a busy key at its usual rate is not flagged.
  for (int m = 0; m < 11; ++m) EXPECT_TRUE(burst(d, "data/b", m, 200).empty()) << m;
}

TEST(AnomalyDetectorTest, FlagsErrorsAndWaitsForHistory) {
  AnomalyDetector d;
  // Without history nothing is flagged, however busy.
  EXPECT_TRUE(burst(d, "k", 0, 500, 500).empty());
  AnomalyDetector e;
  for (int m = 0; m < 6; ++m) EXPECT_TRUE(burst(e, "k", m, 10, 1).empty());
  EXPECT_EQ(burst(e, "k", 6, 12, 12), std::vector<std::string>{"error_rate"});
  // Small counts are never anomalies.
  AnomalyDetector f;
  for (int m = 0; m < 6; ++m) burst(f, "quiet", m, 1);
  EXPECT_TRUE(burst(f, "quiet", 6, 20).empty());
}

TEST(AnomalyDetectorTest, IdleMinutesLowerTheBaseline) {
  AnomalyDetector d;
  for (int m = 0; m < 10; ++m) burst(d, "k", m, 100);
  EXPECT_TRUE(burst(d, "k", 10, 120).empty());
  // After an hour of silence the baseline has decayed: the same rate now stands out.
  EXPECT_EQ(burst(d, "k", 70, 120), std::vector<std::string>{"request_rate"});
}

}  // namespace
}  // namespace inferd::server
