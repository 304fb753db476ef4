// `inferd bench -m MODEL --json` on the llama fixture: prefill and decode rates, the bandwidth
// measured around each decode repetition and the fraction taken against it; bad arguments fail
// with a message and exit status.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

TEST(BenchCommand, ReportsRatesAndTheBandwidthAroundEachRepetition) {
  INFERD_REQUIRE_SHARED(model_path, "fixtures/fixture-llama-f16.gguf");
  const auto r = ::inferd::testing::run_process(
      {::inferd::testing::inferd_binary(), "bench", "-m", model_path.string(), "-p", "8", "-n",
       "4", "-r", "2", "--threads", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["reps"], 2);
  EXPECT_GT(j["prefill_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["decode_tokens_per_s"].get<double>(), 0.0);
  const double gbps = j["memory_read_bandwidth_gbps"].get<double>();
  const auto range = j["memory_read_bandwidth_range_gbps"];
  ASSERT_EQ(range.size(), 2u);
  EXPECT_GT(range[0].get<double>(), 0.0);
  EXPECT_LE(range[0].get<double>(), gbps);
  EXPECT_LE(gbps, range[1].get<double>());
  // Decode reads the weights once per token.
  const double read_gbps = j["decode_read_gbps"].get<double>();
  EXPECT_NEAR(read_gbps, j["decode_tokens_per_s"].get<double>() *
                             j["weight_bytes_per_token"].get<double>() / 1e9,
              1e-9 * read_gbps);
  const double fraction = j["decode_bandwidth_fraction"].get<double>();
  EXPECT_GT(fraction, 0.0);
  EXPECT_NEAR(j["decode_ceiling_tokens_per_s"].get<double>(),
              gbps * 1e9 / j["weight_bytes_per_token"].get<double>(), 1e-6 * gbps);
}

TEST(BenchCommand, RejectsBadArguments) {
  auto r = ::inferd::testing::run_process(
      {::inferd::testing::inferd_binary(), "bench", "-m", "/nonexistent.gguf", "-p", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("at least 1"), std::string::npos) << r.err;
  r = ::inferd::testing::run_process(
      {::inferd::testing::inferd_binary(), "bench", "-m", "/nonexistent.gguf", "-r", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace inferd
