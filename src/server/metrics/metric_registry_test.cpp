#include "server/metrics/metric_registry.h"

#include <cmath>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

namespace inferd::server::metrics {
namespace {

TEST(MetricRegistryTest, CounterAndGaugeExposition) {
  MetricRegistry reg;
  auto& requests = reg.counter("inferd_requests_total", "Requests answered.", {"endpoint", "status"});
  requests.with({"/v1/completions", "200"}).inc();
  requests.with({"/v1/completions", "200"}).inc(2);
  requests.with({"/health", "503"}).inc();
  auto& running = reg.gauge("inferd_running", "Requests running.");
  running.with({}).set(3);
  EXPECT_EQ(reg.expose(),
            "# HELP inferd_requests_total Requests answered.\n"
            "# TYPE inferd_requests_total counter\n"
            "inferd_requests_total{endpoint=\"/v1/completions\",status=\"200\"} 3\n"
            "inferd_requests_total{endpoint=\"/health\",status=\"503\"} 1\n"
            "# HELP inferd_running Requests running.\n"
            "# TYPE inferd_running gauge\n"
            "inferd_running 3\n");
}

TEST(MetricRegistryTest, HistogramExposition) {
  MetricRegistry reg;
  auto& h = reg.histogram("inferd_latency_seconds", "Latency.", {"model"}, {0.1, 0.5, 1});
  auto& s = h.with({"m"});
  s.observe(0.05);
  s.observe(0.1);  // le is inclusive
  s.observe(0.7);
  s.observe(3);
  s.observe(std::nan(""));  // ignored
  EXPECT_EQ(reg.expose(),
            "# HELP inferd_latency_seconds Latency.\n"
            "# TYPE inferd_latency_seconds histogram\n"
            "inferd_latency_seconds_bucket{model=\"m\",le=\"0.1\"} 2\n"
            "inferd_latency_seconds_bucket{model=\"m\",le=\"0.5\"} 2\n"
            "inferd_latency_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "inferd_latency_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "inferd_latency_seconds_sum{model=\"m\"} 3.85\n"
            "inferd_latency_seconds_count{model=\"m\"} 4\n");
}

TEST(MetricRegistryTest, HistogramWithoutLabels) {
  MetricRegistry reg;
  reg.histogram("x_seconds", "X.", {}, {1}).with({}).observe(0.5);
  EXPECT_EQ(reg.expose(),
            "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"
            "x_seconds_bucket{le=\"1\"} 1\nx_seconds_bucket{le=\"+Inf\"} 1\n"
            "x_seconds_sum 0.5\nx_seconds_count 1\n");
}

TEST(MetricRegistryTest, Escaping) {
  MetricRegistry reg;
  reg.counter("c_total", "Help with \\ and\nnewline \"quotes\" kept.", {"v"})
      .with({"a\"b\\c\nd"})
      .inc();
  EXPECT_EQ(reg.expose(),
            "# HELP c_total Help with \\\\ and\\nnewline \"quotes\" kept.\n"
            "# TYPE c_total counter\n"
            "c_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricRegistryTest, ValueFormatting) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(12345678901.0), "12345678901");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(-2.5), "-2.5");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_metric_value(1e300)), 1e300);
}

TEST(MetricRegistryTest, Names) {
  EXPECT_TRUE(is_valid_metric_name("inferd_a:b_1"));
  EXPECT_FALSE(is_valid_metric_name("1abc"));
  EXPECT_FALSE(is_valid_metric_name("a-b"));
  EXPECT_FALSE(is_valid_metric_name(""));
  EXPECT_TRUE(is_valid_label_name("model_2"));
  EXPECT_FALSE(is_valid_label_name("__name"));
  EXPECT_FALSE(is_valid_label_name("a:b"));
}

TEST(MetricRegistryTest, RegisteringAgainReturnsTheSameFamily) {
  MetricRegistry reg;
  auto& a = reg.counter("a_total", "A.", {"x"});
  auto& b = reg.counter("a_total", "A.", {"x"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.with({"1"}), &b.with({"1"}));
  EXPECT_DEATH(reg.gauge("a_total", "A.", {"x"}), "different shapes");
  EXPECT_DEATH(reg.counter("bad-name", "B."), "invalid metric name");
  EXPECT_DEATH(reg.histogram("h", "H.", {"le"}, {1}), "reserved");
  EXPECT_DEATH(reg.histogram("h2", "H.", {}, {2, 1}), "increase");
}

TEST(MetricRegistryTest, ExponentialBuckets) {
  const auto b = exponential_buckets(0.001, 2, 4);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_DOUBLE_EQ(b[3], 0.008);
}

TEST(MetricRegistryTest, ConcurrentIncrementsAndLookups) {
  MetricRegistry reg;
  auto& counter = reg.counter("c_total", "C.", {"t"});
  auto& hist = reg.histogram("h_seconds", "H.", {"t"}, {0.5, 1.5});
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter& shared = counter.with({"shared"});
      Histogram& h = hist.with({"shared"});
      for (int i = 0; i < kIters; ++i) {
        shared.inc();
        h.observe(i % 2);
        if (i % 1000 == 0) counter.with({std::to_string(t * 100 + i / 1000)}).inc();  // new series
      }
    });
  }
  std::string last;
  for (int i = 0; i < 20; ++i) last = reg.expose();  // concurrent scrapes
  for (auto& th : threads) th.join();
  EXPECT_EQ(counter.with({"shared"}).value(), kThreads * kIters);
  const auto snap = hist.with({"shared"}).snapshot();
  EXPECT_EQ(snap.count, uint64_t(kThreads) * kIters);
  EXPECT_EQ(snap.cumulative[0], uint64_t(kThreads) * kIters / 2);
  EXPECT_DOUBLE_EQ(snap.sum, kThreads * kIters / 2.0);
  const std::string text = reg.expose();
  EXPECT_NE(text.find("c_total{t=\"shared\"} 80000\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_count{t=\"shared\"} 80000\n"), std::string::npos);
}

}  // namespace
}  // namespace inferd::server::metrics
