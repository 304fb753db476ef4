// The rate-limit contract on Redis (a private redis-server): GCRA bursts with headers, all or
// nothing, token budgets, concurrency slots (released with the hold, lapsing when never
// released), two limiters sharing one budget, 16 threads, and the in-process fallback when Redis
// goes away; on one redis-server and on a private 3-node Redis Cluster (where every key of an
// admission shares one slot). Redis keeps its own time, so these tests use rates fast enough to
// watch recover.
#include "server/ratelimit/redis_rate_store.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "server/ratelimit/rate_limiter.h"
#include "server/sessions/redis_key_slot.h"
#include "testing/redis_cluster.h"
#include "testing/redis_server.h"

namespace inferd::server::ratelimit {
namespace {

using namespace std::chrono_literals;

bool admitted(const std::variant<RateAdmission, ApiError>& r) {
  return std::holds_alternative<RateAdmission>(r);
}

std::string header(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "<none>";
}

class RedisRateLimiterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis_cluster") {
      if (!cluster_) cluster_ = std::make_unique<testing::RedisCluster>();
      INFERD_REQUIRE_REDIS_CLUSTER(*cluster_);
      ASSERT_TRUE(cluster_->flush_all());
    } else {
      redis_ = std::make_unique<testing::RedisServer>();
      INFERD_REQUIRE_REDIS(*redis_);
    }
  }

  static void TearDownTestSuite() { cluster_.reset(); }

  std::string url() const { return redis_ ? redis_->url() : cluster_->url(); }
  // Every Redis process dies (a later test starts a new cluster).
  void stop_redis() {
    redis_.reset();
    cluster_.reset();
  }

  std::unique_ptr<RateLimiter> make_limiter(std::chrono::milliseconds slot_ttl = 600s) {
    RateLimiterOptions options;
    options.redis_url = url();
    options.concurrency_slot_ttl = slot_ttl;
    options.redis_timeout = 2s;  // a loaded test machine must not read as an unreachable Redis
    auto limiter = RateLimiter::create(std::move(options));
    EXPECT_TRUE(limiter.ok()) << limiter.status().to_string();
    if (!limiter.ok()) return nullptr;
    EXPECT_TRUE((*limiter)->using_redis());
    return std::move(*limiter);
  }

  std::unique_ptr<testing::RedisServer> redis_;
  static inline std::unique_ptr<testing::RedisCluster> cluster_;  // shared by the suite
};

TEST_P(RedisRateLimiterTest, BurstIsExactAndHeadersFollow) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  const std::vector<RateSubject> key = {{"key:k1", {.requests_per_minute = 10}}};
  for (int i = 0; i < 10; ++i) {
    auto r = limiter->admit(key, RateClass::kInference);
    ASSERT_TRUE(admitted(r)) << i;
    const HeaderList& h = std::get<RateAdmission>(r).headers;
    EXPECT_EQ(header(h, "X-RateLimit-Limit"), "10");
    EXPECT_EQ(header(h, "X-RateLimit-Remaining"), std::to_string(9 - i));
    EXPECT_EQ(header(h, "X-RateLimit-Reset"), std::to_string(6 * (i + 1)));
  }
  auto r = limiter->admit(key, RateClass::kInference);
  ASSERT_FALSE(admitted(r));
  const ApiError& e = std::get<ApiError>(r);
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.code, "rate_limit_exceeded");
  EXPECT_GE(e.retry_after_s.value_or(0), 5);
  EXPECT_LE(e.retry_after_s.value_or(0), 6);
  EXPECT_NE(e.message.find("key k1: 10 requests per minute"), std::string::npos) << e.message;
  EXPECT_EQ(header(e.headers, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(header(e.headers, "X-RateLimit-Reset"), "60");
}

TEST_P(RedisRateLimiterTest, RecoversAtTheRate) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  // 1200 a minute: one every 50 ms.
  const std::vector<RateSubject> key = {{"key:fast", {.requests_per_minute = 1200}}};
  int n = 0;
  const auto start = std::chrono::steady_clock::now();
  while (admitted(limiter->admit(key, RateClass::kLight))) ++n;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(n, 1200);
  EXPECT_LE(n, 1200 + 1 + elapsed / 50ms);  // the burst, plus what recovered meanwhile
  auto r = limiter->admit(key, RateClass::kLight);
  ASSERT_FALSE(admitted(r));
  EXPECT_EQ(std::get<ApiError>(r).retry_after_s, 1);
  std::this_thread::sleep_for(60ms);
  EXPECT_TRUE(admitted(limiter->admit(key, RateClass::kLight)));
}

TEST_P(RedisRateLimiterTest, AllOrNothingAcrossSubjects) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  const RateSubject service{"service:vista", {.requests_per_minute = 5}};
  const std::vector<RateSubject> a = {service, {"key:a", {.requests_per_minute = 3}}};
  const std::vector<RateSubject> b = {service, {"key:b", {.requests_per_minute = 3}}};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admitted(limiter->admit(a, RateClass::kInference)));
  for (int i = 0; i < 10; ++i) ASSERT_FALSE(admitted(limiter->admit(a, RateClass::kInference)));
  EXPECT_TRUE(admitted(limiter->admit(b, RateClass::kInference)));
  EXPECT_TRUE(admitted(limiter->admit(b, RateClass::kInference)));
  auto r = limiter->admit(b, RateClass::kInference);
  ASSERT_FALSE(admitted(r));
  EXPECT_NE(std::get<ApiError>(r).message.find("service vista"), std::string::npos);
}

TEST_P(RedisRateLimiterTest, TokenBudgetRefusesUntilItRecovers) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  // 6000 a minute: 10 ms a token. 6050 tokens spend the budget for 500 ms.
  const std::vector<RateSubject> key = {{"key:t", {.tokens_per_minute = 6000}}};
  ASSERT_TRUE(admitted(limiter->admit(key, RateClass::kInference)));
  limiter->charge_tokens(key, 6050);
  auto r = limiter->admit(key, RateClass::kInference);
  ASSERT_FALSE(admitted(r));
  EXPECT_NE(std::get<ApiError>(r).message.find("6000 tokens per minute"), std::string::npos);
  EXPECT_EQ(std::get<ApiError>(r).retry_after_s, 1);
  EXPECT_TRUE(admitted(limiter->admit(key, RateClass::kLight)));
  std::this_thread::sleep_for(600ms);
  EXPECT_TRUE(admitted(limiter->admit(key, RateClass::kInference)));
}

TEST_P(RedisRateLimiterTest, ConcurrencySlotsFollowTheHoldAndLapse) {
  auto limiter = make_limiter(/*slot_ttl=*/1000ms);
  ASSERT_NE(limiter, nullptr);
  const std::vector<RateSubject> key = {{"key:c", {.concurrent = 2}}};
  auto first = limiter->admit(key, RateClass::kInference);
  auto second = limiter->admit(key, RateClass::kInference);
  ASSERT_TRUE(admitted(first));
  ASSERT_TRUE(admitted(second));
  auto r = limiter->admit(key, RateClass::kInference);
  ASSERT_FALSE(admitted(r));
  EXPECT_NE(std::get<ApiError>(r).message.find("2 concurrent requests"), std::string::npos);
  first = RateAdmission{};
  auto third = limiter->admit(key, RateClass::kInference);
  ASSERT_TRUE(admitted(third));
  EXPECT_FALSE(admitted(limiter->admit(key, RateClass::kInference)));
  // Slots never released (a crashed server) lapse after the slot ttl.
  std::this_thread::sleep_for(1100ms);
  auto fourth = limiter->admit(key, RateClass::kInference);
  auto fifth = limiter->admit(key, RateClass::kInference);
  EXPECT_TRUE(admitted(fourth));
  EXPECT_TRUE(admitted(fifth));
  EXPECT_FALSE(admitted(limiter->admit(key, RateClass::kInference)));
}

TEST_P(RedisRateLimiterTest, TwoLimitersShareOneBudget) {
  auto one = make_limiter();
  auto two = make_limiter();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  const std::vector<RateSubject> key = {
      {"key:shared", {.requests_per_minute = 10, .concurrent = 3}}};
  int n = 0;
  std::vector<std::shared_ptr<const void>> holds;
  for (int i = 0; i < 20; ++i) {
    auto r = (i % 2 == 0 ? one : two)->admit(key, RateClass::kLight);
    n += admitted(r) ? 1 : 0;
  }
  EXPECT_EQ(n, 10);
  // Concurrency slots are shared too (inference), and one server's release frees it for both.
  const std::vector<RateSubject> conc = {{"key:conc", {.concurrent = 3}}};
  for (int i = 0; i < 6; ++i) {
    auto r = (i % 2 == 0 ? one : two)->admit(conc, RateClass::kInference);
    if (admitted(r)) holds.push_back(std::get<RateAdmission>(r).hold);
  }
  EXPECT_EQ(holds.size(), 3u);
  holds.erase(holds.begin());  // taken by `one`
  EXPECT_TRUE(admitted(two->admit(conc, RateClass::kInference)));
}

TEST_P(RedisRateLimiterTest, SixteenThreadsNeverExceedTheLimit) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  const std::vector<RateSubject> subjects = {{"service:busy", {.requests_per_minute = 300}},
                                             {"key:busy", {.requests_per_minute = 250}}};
  std::atomic<int> n{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i)
        if (admitted(limiter->admit(subjects, RateClass::kInference))) n.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // The key's burst, plus at most one more per 240 ms that passed.
  EXPECT_GE(n.load(), 250);
  EXPECT_LE(n.load(), 250 + 1 + elapsed / 240ms);
}

TEST_P(RedisRateLimiterTest, FallsBackInProcessWhenRedisGoesAway) {
  auto limiter = make_limiter();
  ASSERT_NE(limiter, nullptr);
  const std::vector<RateSubject> key = {{"key:f", {.requests_per_minute = 3}}};
  ASSERT_TRUE(admitted(limiter->admit(key, RateClass::kLight)));
  stop_redis();
  int n = 0;
  for (int i = 0; i < 10; ++i) n += admitted(limiter->admit(key, RateClass::kLight)) ? 1 : 0;
  EXPECT_EQ(n, 3);  // the in-process budget is fresh, but still enforced
  EXPECT_FALSE(limiter->using_redis());
}

INSTANTIATE_TEST_SUITE_P(Stores, RedisRateLimiterTest, ::testing::Values("redis", "redis_cluster"),
                         [](const auto& info) { return info.param; });

TEST(RedisRateLimiterLayoutTest, OnAClusterEveryKeyLivesInOneSlot) {
  testing::RedisCluster cluster;
  INFERD_REQUIRE_REDIS_CLUSTER(cluster);
  RateLimiterOptions options;
  options.redis_url = cluster.url();
  options.redis_timeout = 2s;
  auto limiter = RateLimiter::create(std::move(options));
  ASSERT_TRUE(limiter.ok()) << limiter.status().to_string();
  ASSERT_TRUE((*limiter)->using_redis());
  const std::vector<RateSubject> subjects = {
      {"service:vista", {.requests_per_minute = 5, .tokens_per_minute = 100, .concurrent = 2}},
      {"key:a", {.requests_per_minute = 3, .concurrent = 1}}};
  ASSERT_TRUE(admitted((*limiter)->admit(subjects, RateClass::kInference)));
  (*limiter)->charge_tokens(subjects, 10);
  const uint16_t slot = sessions::redis_key_slot("inferd:ratelimit:{inferd-rate}:");
  int num_keys = 0;
  for (int node = 0; node < cluster.num_nodes(); ++node)
    num_keys += std::stoi(cluster.command(node, {"DBSIZE"}));
  EXPECT_GT(num_keys, 1);  // what the admission and the charge wrote, of both subjects
  EXPECT_EQ(
      cluster.command(cluster.owner_of(slot), {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}),
      std::to_string(num_keys));
}

TEST(RedisRateLimiterLayoutTest, AnAdmissionsKeysShareOneClusterSlot) {
  // The service and key subjects of one admission, as the admission script names them.
  const std::string p = "inferd:ratelimit:{inferd-rate}:";
  const uint16_t slot = sessions::redis_key_slot(p + "service:alpha:requests");
  for (const char* k :
       {"service:alpha:tokens", "service:alpha:slots", "key:k_1{x}:requests", "key:k_2:slots"})
    EXPECT_EQ(sessions::redis_key_slot(p + k), slot) << k;
}

TEST(RedisRateLimiterStartTest, UnreachableRedisStartsInProcessAndBadUrlsFail) {
  RateLimiterOptions options;
  options.redis_url = "redis://127.0.0.1:1/0";
  auto limiter = RateLimiter::create(options);
  ASSERT_TRUE(limiter.ok()) << limiter.status().to_string();
  EXPECT_FALSE((*limiter)->using_redis());
  const std::vector<RateSubject> key = {{"key:s", {.requests_per_minute = 2}}};
  EXPECT_TRUE(admitted((*limiter)->admit(key, RateClass::kLight)));
  EXPECT_TRUE(admitted((*limiter)->admit(key, RateClass::kLight)));
  EXPECT_FALSE(admitted((*limiter)->admit(key, RateClass::kLight)));

  options.redis_url = "http://127.0.0.1:6379";
  EXPECT_EQ(RateLimiter::create(options).status().code(), StatusCode::kInvalidArgument);
  options.redis_url = "redis://127.0.0.1:99999";
  EXPECT_EQ(RateLimiter::create(options).status().code(), StatusCode::kInvalidArgument);
  options.redis_url = "redis+cluster://127.0.0.1";
  EXPECT_EQ(RateLimiter::create(options).status().code(), StatusCode::kInvalidArgument);
  // An unreachable cluster starts in-process too.
  options.redis_url = "redis+cluster://127.0.0.1:1,127.0.0.1:2";
  auto cluster_limiter = RateLimiter::create(options);
  ASSERT_TRUE(cluster_limiter.ok()) << cluster_limiter.status().to_string();
  EXPECT_FALSE((*cluster_limiter)->using_redis());
}

}  // namespace
}  // namespace inferd::server::ratelimit
