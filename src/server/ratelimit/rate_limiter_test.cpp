// RateLimiter in process on a fake clock: GCRA bursts and recovery with their headers, all or
// nothing across subjects, token budgets, concurrency slots held by the admission, rate classes,
// and exact limits under 16 threads.
#include "server/ratelimit/rate_limiter.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace inferd::server::ratelimit {
namespace {

using namespace std::chrono_literals;

class FakeClock {
 public:
  SteadyClock fn() {
    return [this] {
      return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now_.load()));
    };
  }
  void advance(std::chrono::microseconds d) { now_ += std::chrono::nanoseconds(d).count(); }

 private:
  // Far from the clock's epoch, as a real steady clock is.
  std::atomic<int64_t> now_{std::chrono::nanoseconds(100h).count()};
};

std::string header(const HeaderList& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "<none>";
}

class RateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RateLimiterOptions options;
    options.clock = clock_.fn();
    auto limiter = RateLimiter::create(std::move(options));
    ASSERT_TRUE(limiter.ok()) << limiter.status().to_string();
    limiter_ = std::move(*limiter);
  }

  std::variant<RateAdmission, ApiError> admit(const std::vector<RateSubject>& subjects,
                                              RateClass rate_class = RateClass::kInference) {
    return limiter_->admit(subjects, rate_class);
  }
  static bool admitted(const std::variant<RateAdmission, ApiError>& r) {
    return std::holds_alternative<RateAdmission>(r);
  }

  FakeClock clock_;
  std::unique_ptr<RateLimiter> limiter_;
};

TEST_F(RateLimiterTest, BurstThenOneEveryIntervalWithHeaders) {
  const std::vector<RateSubject> key = {{"key:k1", {.requests_per_minute = 10}}};
  for (int i = 0; i < 10; ++i) {
    auto r = admit(key);
    ASSERT_TRUE(admitted(r)) << i;
    const HeaderList& h = std::get<RateAdmission>(r).headers;
    EXPECT_EQ(header(h, "X-RateLimit-Limit"), "10");
    EXPECT_EQ(header(h, "X-RateLimit-Remaining"), std::to_string(9 - i));
    EXPECT_EQ(header(h, "X-RateLimit-Reset"), std::to_string(6 * (i + 1)));
    EXPECT_EQ(std::get<RateAdmission>(r).hold, nullptr);  // no concurrency limit
  }
  auto refused = admit(key);
  ASSERT_FALSE(admitted(refused));
  const ApiError& e = std::get<ApiError>(refused);
  EXPECT_EQ(e.status, 429);
  EXPECT_EQ(e.code, "rate_limit_exceeded");
  EXPECT_EQ(error_type_for_status(e.status), "rate_limit_error");
  EXPECT_EQ(e.retry_after_s, 6);
  EXPECT_NE(e.message.find("key k1: 10 requests per minute"), std::string::npos) << e.message;
  EXPECT_EQ(header(e.headers, "X-RateLimit-Limit"), "10");
  EXPECT_EQ(header(e.headers, "X-RateLimit-Remaining"), "0");
  EXPECT_EQ(header(e.headers, "X-RateLimit-Reset"), "60");

  // 5.5 s later: still refused, Retry-After rounds the 0.5 s up to 1.
  clock_.advance(5500ms);
  refused = admit(key);
  ASSERT_FALSE(admitted(refused));
  EXPECT_EQ(std::get<ApiError>(refused).retry_after_s, 1);
  // At 6 s exactly one more passes; the next one waits a whole interval.
  clock_.advance(500ms);
  EXPECT_TRUE(admitted(admit(key)));
  refused = admit(key);
  ASSERT_FALSE(admitted(refused));
  EXPECT_EQ(std::get<ApiError>(refused).retry_after_s, 6);
  // A quiet minute restores the whole burst.
  clock_.advance(60s);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(admitted(admit(key))) << i;
  EXPECT_FALSE(admitted(admit(key)));
}

TEST_F(RateLimiterTest, AllOrNothingAcrossServiceAndKey) {
  const RateSubject service{"service:vista", {.requests_per_minute = 5}};
  const std::vector<RateSubject> a = {service, {"key:a", {.requests_per_minute = 3}}};
  const std::vector<RateSubject> b = {service, {"key:b", {.requests_per_minute = 3}}};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admitted(admit(a)));
  // Key a is spent: its refusals must not draw from the service.
  for (int i = 0; i < 20; ++i) {
    auto r = admit(a);
    ASSERT_FALSE(admitted(r));
    const std::string& message = std::get<ApiError>(r).message;
    EXPECT_NE(message.find("key a"), std::string::npos) << message;
    EXPECT_EQ(message.find("service"), std::string::npos) << message;
  }
  // The most constrained limit speaks in the headers: the service has 2 left, key b 2 too, and
  // the service's budget is full later.
  auto r = admit(b);
  ASSERT_TRUE(admitted(r));
  EXPECT_EQ(header(std::get<RateAdmission>(r).headers, "X-RateLimit-Limit"), "5");
  EXPECT_EQ(header(std::get<RateAdmission>(r).headers, "X-RateLimit-Remaining"), "1");
  ASSERT_TRUE(admitted(admit(b)));
  r = admit(b);
  ASSERT_FALSE(admitted(r));
  EXPECT_NE(std::get<ApiError>(r).message.find("service vista: 5 requests per minute"),
            std::string::npos);
  EXPECT_EQ(header(std::get<ApiError>(r).headers, "X-RateLimit-Limit"), "5");
  EXPECT_EQ(header(std::get<ApiError>(r).headers, "X-RateLimit-Remaining"), "0");
  // Key b was charged only for its two admitted requests: it has one left once the service
  // recovers one interval (12 s).
  clock_.advance(12s);
  EXPECT_TRUE(admitted(admit(b)));
}

TEST_F(RateLimiterTest, TokenBudgetRefusesUntilItRecovers) {
  const std::vector<RateSubject> key = {{"key:t", {.tokens_per_minute = 1000}}};
  ASSERT_TRUE(admitted(admit(key)));
  // A request may overshoot by its own tokens: 1500 tokens against 1000 a minute.
  limiter_->charge_tokens(key, 1500);
  auto r = admit(key);
  ASSERT_FALSE(admitted(r));
  const ApiError& e = std::get<ApiError>(r);
  EXPECT_NE(e.message.find("key t: 1000 tokens per minute"), std::string::npos) << e.message;
  EXPECT_EQ(e.retry_after_s, 31);  // 30 s to get back to a full minute, then the next token
  EXPECT_EQ(header(e.headers, "X-RateLimit-Limit"), "<none>");  // no requests limit
  // Light routes do not count tokens.
  EXPECT_TRUE(admitted(admit(key, RateClass::kLight)));
  clock_.advance(30s);
  EXPECT_FALSE(admitted(admit(key)));
  clock_.advance(1ms);
  EXPECT_TRUE(admitted(admit(key)));
}

TEST_F(RateLimiterTest, ConcurrencySlotsFollowTheHold) {
  const std::vector<RateSubject> key = {{"key:c", {.concurrent = 2}}};
  auto first = admit(key);
  auto second = admit(key);
  ASSERT_TRUE(admitted(first));
  ASSERT_TRUE(admitted(second));
  std::shared_ptr<const void> hold1 = std::get<RateAdmission>(first).hold;
  ASSERT_NE(hold1, nullptr);
  first = RateAdmission{};  // copies of the hold keep the slot; the last one frees it
  auto third = admit(key);
  ASSERT_FALSE(admitted(third));
  EXPECT_NE(std::get<ApiError>(third).message.find("key c: 2 concurrent requests"),
            std::string::npos);
  EXPECT_EQ(std::get<ApiError>(third).retry_after_s, 1);
  // Light routes take no slot.
  auto light = admit(key, RateClass::kLight);
  ASSERT_TRUE(admitted(light));
  EXPECT_EQ(std::get<RateAdmission>(light).hold, nullptr);

  hold1.reset();
  auto fourth = admit(key);
  ASSERT_TRUE(admitted(fourth));
  EXPECT_FALSE(admitted(admit(key)));  // one freed slot admits exactly one
  // Releasing both frees both, never more.
  second = RateAdmission{};
  fourth = RateAdmission{};
  std::vector<std::shared_ptr<const void>> holds;
  for (int i = 0; i < 3; ++i) {
    auto r = admit(key);
    if (admitted(r)) holds.push_back(std::get<RateAdmission>(r).hold);
  }
  EXPECT_EQ(holds.size(), 2u);
}

TEST_F(RateLimiterTest, HoldsOutliveTheLimiter) {
  auto r = admit({{"key:c", {.concurrent = 1}}});
  ASSERT_TRUE(admitted(r));
  limiter_.reset();
  std::get<RateAdmission>(r).hold.reset();  // gives the slot back to the store it kept alive
}

TEST_F(RateLimiterTest, UnlimitedClassAndUnlimitedSubjectsAreNeverCounted) {
  const std::vector<RateSubject> key = {{"key:u", {.requests_per_minute = 1, .concurrent = 1}}};
  for (int i = 0; i < 5; ++i) {
    auto r = admit(key, RateClass::kUnlimited);
    ASSERT_TRUE(admitted(r));
    EXPECT_TRUE(std::get<RateAdmission>(r).headers.empty());
    EXPECT_EQ(std::get<RateAdmission>(r).hold, nullptr);
  }
  EXPECT_TRUE(admitted(admit(key)));
  EXPECT_FALSE(admitted(admit(key)));
  // A subject without limits (no access control configured) is never refused.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(admitted(admit({{"service:", {}}})));
}

TEST_F(RateLimiterTest, DuplicateSubjectsCountOnce) {
  const RateSubject key{"key:d", {.requests_per_minute = 2}};
  EXPECT_TRUE(admitted(admit({key, key})));
  EXPECT_TRUE(admitted(admit({key, key})));
  EXPECT_FALSE(admitted(admit({key})));
}

TEST_F(RateLimiterTest, SixteenThreadsNeverExceedTheLimits) {
  constexpr int kThreads = 16;
  constexpr int kAttempts = 2000;
  const RateSubject service{"service:busy", {.requests_per_minute = 20000}};
  const std::vector<RateSubject> keys[2] = {
      {service, {"key:x", {.requests_per_minute = 700}}},
      {service, {"key:y", {.requests_per_minute = 100000, .concurrent = 3}}},
  };
  std::atomic<int> admitted_x{0}, admitted_y{0}, in_flight_y{0}, max_in_flight_y{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAttempts; ++i) {
        const bool y = (t + i) % 2 == 1;
        auto r = limiter_->admit(keys[y ? 1 : 0], RateClass::kInference);
        if (!std::holds_alternative<RateAdmission>(r)) continue;
        if (!y) {
          admitted_x.fetch_add(1);
          continue;
        }
        admitted_y.fetch_add(1);
        const int now = in_flight_y.fetch_add(1) + 1;
        int seen = max_in_flight_y.load();
        while (now > seen && !max_in_flight_y.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        in_flight_y.fetch_sub(1);  // before the hold goes: the slot is still ours here
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted_x.load(), 700);
  EXPECT_LE(max_in_flight_y.load(), 3);
  EXPECT_GT(admitted_y.load(), 0);
  // Refusals charged nothing: the service has exactly what the admitted requests left over.
  int more = 0;
  while (std::holds_alternative<RateAdmission>(limiter_->admit(keys[1], RateClass::kInference)))
    ++more;
  EXPECT_EQ(admitted_x.load() + admitted_y.load() + more, 20000);

  // A service limit binds across its keys the same way.
  std::atomic<int> admitted_tight{0};
  threads.clear();
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::vector<RateSubject> subjects = {
          {"service:tight", {.requests_per_minute = 1000}},
          {"key:t" + std::to_string(t % 4), {.requests_per_minute = 100000}}};
      for (int i = 0; i < kAttempts; ++i)
        if (std::holds_alternative<RateAdmission>(limiter_->admit(subjects, RateClass::kLight)))
          admitted_tight.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted_tight.load(), 1000);
}

TEST(LocalRateStoreTest, ForgetsSubjectsWhoseBudgetsAreFull) {
  FakeClock clock;
  LocalRateStore store(clock.fn());
  for (int i = 0; i < 4094; ++i) {
    const RateSubject s{"key:" + std::to_string(i), {.requests_per_minute = 10}};
    ASSERT_TRUE(store.admit({&s, 1}, "slot")->admitted);
  }
  EXPECT_EQ(store.num_tracked_subjects(), 4094u);
  const RateSubject busy{"key:busy", {.concurrent = 1}};
  ASSERT_TRUE(store.admit({&busy, 1}, "slot")->admitted);  // holds its slot through the sweep
  clock.advance(7s);
  const RateSubject last{"key:last", {.requests_per_minute = 10}};
  ASSERT_TRUE(store.admit({&last, 1}, "slot")->admitted);  // the 4096th admission sweeps
  EXPECT_EQ(store.num_tracked_subjects(), 2u);
  EXPECT_FALSE(store.admit({&busy, 1}, "slot")->admitted);
}

}  // namespace
}  // namespace inferd::server::ratelimit
