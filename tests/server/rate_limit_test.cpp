// Rate limits through the HTTP server: an authenticator that admits each request with the
// RateLimiter, 50 parallel requests at a key limited to 10 a minute (exactly 10 pass, 40 get a
// 429 in the OpenAI envelope with Retry-After and X-RateLimit-*), and a key limited to 3
// concurrent requests whose handlers hold their exchanges open (exactly 3 run at once; a
// finished response frees its slot).
#include <atomic>
#include <condition_variable>
#include <future>
#include <set>

#include <nlohmann/json.hpp>

#include "server/http/exchange.h"
#include "server/http_test_support.h"
#include "server/ratelimit/rate_limiter.h"

namespace inferd::server::testing {
namespace {

using ratelimit::RateLimiter;
using ratelimit::RateSubject;

struct TestKey {
  std::string key;
  std::string service;
  std::vector<RateSubject> subjects;
};

class RateLimitServerTest : public HttpServerFixture {
 protected:
  void SetUp() override {
    ratelimit::RateLimiterOptions options;
    // A frozen clock: no budget recovers while the test runs, so every count is exact.
    options.clock = [] { return std::chrono::steady_clock::time_point(std::chrono::hours(100)); };
    auto limiter = RateLimiter::create(std::move(options));
    ASSERT_TRUE(limiter.ok()) << limiter.status().to_string();
    limiter_ = std::move(*limiter);
    keys_ = {
        {"k_rpm", "vista", {{"service:vista", {}}, {"key:k_rpm", {.requests_per_minute = 10}}}},
        {"k_conc", "whisp", {{"service:whisp", {}}, {"key:k_conc", {.concurrent = 3}}}},
    };

    Router router;
    ASSERT_TRUE(router
                    .add({"POST", "/chat/completions",
                          [](const Request&, std::shared_ptr<Exchange> ex) {
                            (void)ex->respond(200, kJsonContentType, R"({"ok":true})");
                          }},
                         {"/v1"})
                    .ok());
    ASSERT_TRUE(router
                    .add({"POST", "/held",
                          [this](const Request&, std::shared_ptr<Exchange> ex) {
                            std::lock_guard<std::mutex> lock(mu_);
                            held_.push_back(std::move(ex));
                            ++num_started_;
                            cv_.notify_all();
                          }},
                         {"/v1"})
                    .ok());
    HttpServerOptions server_options = test_options();
    server_options.num_io_threads = 4;
    server_options.authenticate = [this](const Request& req) -> std::variant<Caller, ApiError> {
      const std::string auth(req.header("Authorization").value_or(""));
      for (const TestKey& k : keys_) {
        if (auth != "Bearer " + k.key) continue;
        auto admitted = limiter_->admit(k.subjects, req.rate_class);
        if (auto* refused = std::get_if<ApiError>(&admitted)) return std::move(*refused);
        auto& admission = std::get<ratelimit::RateAdmission>(admitted);
        return Caller{.service = k.service,
                      .key_id = k.key,
                      .response_headers = std::move(admission.headers),
                      .hold = std::move(admission.hold)};
      }
      return authentication_error("Incorrect API key provided.");
    };
    start_server(std::move(router), server_options);
  }

  // Sends `n` requests at once, each on its own connection; returns the responses in order.
  std::vector<std::optional<Response>> fire(int n, const std::string& target,
                                            const std::string& key) {
    std::vector<std::optional<Response>> out(n);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        TestClient c(port_);
        ready.fetch_add(1);
        while (ready.load() < n) std::this_thread::yield();
        out[i] = c.request("POST", target, "{}", {{"Authorization", "Bearer " + key}}, 10'000ms);
      });
    }
    for (auto& t : threads) t.join();
    return out;
  }

  // One request on its own connection, answered (or given up after 10 s) on another thread.
  std::future<std::optional<Response>> call_async(const std::string& target,
                                                  const std::string& key) {
    return std::async(std::launch::async, [this, target, key] {
      TestClient c(port_);
      return c.request("POST", target, "{}", {{"Authorization", "Bearer " + key}}, 10'000ms);
    });
  }

  // Answers the oldest held exchange and lets go of it (which gives its slot back).
  void finish_one_held() {
    std::shared_ptr<Exchange> ex;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ASSERT_FALSE(held_.empty());
      ex = held_.front();
      held_.erase(held_.begin());
    }
    ASSERT_TRUE(ex->respond(200, kJsonContentType, R"({"ok":true})").ok());
  }

  static void expect_rate_limited(const Response& res) {
    EXPECT_EQ(res.result_int(), 429);
    EXPECT_EQ(field(res, "Content-Type"), "application/json");
    const auto body = nlohmann::json::parse(res.body(), nullptr, false);
    ASSERT_TRUE(body.is_object()) << res.body();
    EXPECT_EQ(body["error"]["type"], "rate_limit_error");
    EXPECT_EQ(body["error"]["code"], "rate_limit_exceeded");
    EXPECT_TRUE(body["error"]["param"].is_null());
    EXPECT_TRUE(body["error"]["message"].is_string());
  }

  std::unique_ptr<RateLimiter> limiter_;
  std::vector<TestKey> keys_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Exchange>> held_;
  int num_started_ = 0;
};

TEST_F(RateLimitServerTest, FiftyParallelRequestsAtTenPerMinute) {
  const auto responses = fire(50, "/v1/chat/completions", "k_rpm");
  int num_ok = 0;
  int num_limited = 0;
  std::multiset<std::string> remaining;
  for (const auto& res : responses) {
    ASSERT_TRUE(res.has_value()) << "a request got no answer";
    if (res->result_int() == 200) {
      ++num_ok;
      EXPECT_EQ(field(*res, "X-RateLimit-Limit"), "10");
      remaining.insert(field(*res, "X-RateLimit-Remaining"));
      const int reset_s = std::stoi(field(*res, "X-RateLimit-Reset"));
      EXPECT_EQ(reset_s % 6, 0);
      EXPECT_GE(reset_s, 6);
      EXPECT_LE(reset_s, 60);
      EXPECT_EQ(field(*res, "Retry-After"), "");
      continue;
    }
    ++num_limited;
    expect_rate_limited(*res);
    EXPECT_EQ(field(*res, "Retry-After"), "6");
    EXPECT_EQ(field(*res, "X-RateLimit-Limit"), "10");
    EXPECT_EQ(field(*res, "X-RateLimit-Remaining"), "0");
    EXPECT_EQ(field(*res, "X-RateLimit-Reset"), "60");
    EXPECT_NE(res->body().find("key k_rpm: 10 requests per minute"), std::string::npos)
        << res->body();
  }
  EXPECT_EQ(num_ok, 10);
  EXPECT_EQ(num_limited, 40);
  // Each admitted request saw its own count: 9, 8, ..., 0 requests left.
  EXPECT_EQ(remaining,
            (std::multiset<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  // Other keys are not affected, and a bad key is a 401, not a 429.
  TestClient c(port_);
  auto res = c.request("POST", "/v1/chat/completions", "{}", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 401);
}

TEST_F(RateLimitServerTest, ConcurrencyLimitedKeyRunsExactlyItsLimit) {
  // Ten at once: three handlers start and hold their exchanges, seven are refused.
  std::vector<std::future<std::optional<Response>>> calls;
  for (int i = 0; i < 10; ++i) calls.push_back(call_async("/v1/held", "k_conc"));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<size_t> answered;
  while (answered.size() < 7 && std::chrono::steady_clock::now() < deadline) {
    answered.clear();
    for (size_t i = 0; i < calls.size(); ++i)
      if (calls[i].wait_for(0s) == std::future_status::ready) answered.push_back(i);
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(answered.size(), 7u);
  {
    // Every request is decided now: the three others run, and no more ever started.
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 5s, [&] { return num_started_ >= 3; }));
    EXPECT_EQ(num_started_, 3);
    EXPECT_EQ(held_.size(), 3u);
  }
  std::vector<std::future<std::optional<Response>>> running;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (std::find(answered.begin(), answered.end(), i) == answered.end()) {
      running.push_back(std::move(calls[i]));
      continue;
    }
    const auto res = calls[i].get();
    ASSERT_TRUE(res);
    expect_rate_limited(*res);
    EXPECT_EQ(field(*res, "Retry-After"), "1");
    EXPECT_NE(res->body().find("key k_conc: 3 concurrent requests"), std::string::npos);
  }

  // One response finishes: its slot frees, and exactly one more request runs.
  finish_one_held();
  auto next = call_async("/v1/held", "k_conc");
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 5s, [&] { return num_started_ == 4; }));
  }
  auto refused = call_async("/v1/held", "k_conc").get();
  ASSERT_TRUE(refused);
  expect_rate_limited(*refused);

  // Finish everything: every client gets its 200, and the slots are all free again.
  for (int i = 0; i < 3; ++i) finish_one_held();
  int num_ok = 0;
  for (auto& f : running) {
    const auto res = f.get();
    num_ok += res && res->result_int() == 200 ? 1 : 0;
  }
  const auto last = next.get();
  num_ok += last && last->result_int() == 200 ? 1 : 0;
  EXPECT_EQ(num_ok, 4);
  std::vector<std::future<std::optional<Response>>> again;
  for (int i = 0; i < 3; ++i) again.push_back(call_async("/v1/held", "k_conc"));
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, 5s, [&] { return num_started_ == 7; }));
  }
  for (int i = 0; i < 3; ++i) finish_one_held();
  for (auto& f : again) {
    const auto res = f.get();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
}

}  // namespace
}  // namespace inferd::server::testing
