#include "server/http/exchange.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "server/http/recording_exchange.h"

namespace inferd::server {
namespace {

TEST(Exchange, WholeResponseOnlyOnce) {
  RecordingExchange ex;
  EXPECT_FALSE(ex.response_started());
  ASSERT_TRUE(ex.respond(200, "application/json", "{}", {{"X-A", "1"}}).ok());
  EXPECT_TRUE(ex.response_started());
  EXPECT_TRUE(ex.completed());
  const auto rec = ex.recorded();
  EXPECT_EQ(rec.status, 200);
  EXPECT_EQ(rec.content_type, "application/json");
  EXPECT_EQ(rec.body, "{}");
  EXPECT_EQ(rec.headers, (HeaderList{{"X-A", "1"}}));

  const Status again = ex.respond(500, "text/plain", "x");
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.start_stream(200).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.send("x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.finish().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.recorded().body, "{}");
}

TEST(Exchange, StreamLifecycleAndMisuse) {
  RecordingExchange ex;
  EXPECT_EQ(ex.send("early").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.finish().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ex.start_stream(200, {{"Content-Type", "text/event-stream"}}).ok());
  EXPECT_EQ(ex.start_stream(200).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.respond(200, "text/plain", "x").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(ex.send("a").ok());
  ASSERT_TRUE(ex.send("").ok());  // no-op
  ASSERT_TRUE(ex.send("b").ok());
  EXPECT_FALSE(ex.completed());
  ASSERT_TRUE(ex.finish().ok());
  EXPECT_TRUE(ex.completed());
  EXPECT_EQ(ex.send("late").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ex.finish().code(), StatusCode::kInvalidArgument);
  const auto rec = ex.recorded();
  EXPECT_TRUE(rec.streamed);
  EXPECT_TRUE(rec.complete);
  EXPECT_EQ(rec.chunks, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(rec.body, "ab");
}

TEST(Exchange, ValidatesStatusAndHeaders) {
  RecordingExchange ex;
  EXPECT_FALSE(ex.respond(99, "text/plain", "").ok());
  EXPECT_FALSE(ex.respond(101, "text/plain", "").ok());
  EXPECT_FALSE(ex.respond(600, "text/plain", "").ok());
  EXPECT_FALSE(ex.respond(204, "text/plain", "body").ok());
  EXPECT_FALSE(ex.respond(200, "text/plain\r\nX: y", "").ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"Bad Name", "v"}}).ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"X-Ok", "a\r\nInjected: 1"}}).ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"Content-Length", "3"}}).ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"transfer-encoding", "chunked"}}).ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"Connection", "close"}}).ok());
  EXPECT_FALSE(ex.respond(200, "text/plain", "", {{"Content-Type", "x"}}).ok());
  EXPECT_FALSE(ex.start_stream(204).ok());
  EXPECT_FALSE(ex.start_stream(200, {{"Content-Length", "1"}}).ok());
  EXPECT_FALSE(ex.response_started());  // nothing was sent by the refused calls
  EXPECT_TRUE(ex.respond(204, "", "").ok());
}

TEST(Exchange, CancelRunsCallbacksOnceInOrder) {
  RecordingExchange ex;
  std::vector<int> calls;
  ex.on_cancel([&] { calls.push_back(1); });
  ex.on_cancel([&] { calls.push_back(2); });
  ex.on_cancel(nullptr);  // ignored
  ASSERT_TRUE(ex.start_stream(200).ok());
  EXPECT_FALSE(ex.cancelled());
  ex.simulate_disconnect();
  ex.simulate_disconnect();
  EXPECT_EQ(calls, (std::vector<int>{1, 2}));
  EXPECT_TRUE(ex.cancelled());
  EXPECT_EQ(ex.cancel_reason(), CancelReason::kClientDisconnected);
  EXPECT_EQ(ex.send("x").code(), StatusCode::kIo);
  EXPECT_EQ(ex.finish().code(), StatusCode::kIo);
  // Registered after cancellation: runs at once.
  ex.on_cancel([&] { calls.push_back(3); });
  EXPECT_EQ(calls, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(ex.wait_done(std::chrono::milliseconds(0)));
}

TEST(Exchange, CompletedExchangeNeverCancels) {
  RecordingExchange ex;
  bool called = false;
  ex.on_cancel([&] { called = true; });
  ASSERT_TRUE(ex.respond(200, "text/plain", "ok").ok());
  ex.simulate_disconnect();
  ex.on_cancel([&] { called = true; });
  EXPECT_FALSE(called);
  EXPECT_FALSE(ex.cancelled());
}

TEST(Exchange, ThrowingCallbackDoesNotStopOthers) {
  RecordingExchange ex;
  bool second = false;
  ex.on_cancel([] { throw std::runtime_error("boom"); });
  ex.on_cancel([&] { second = true; });
  ex.simulate_disconnect();
  EXPECT_TRUE(second);
}

TEST(Exchange, ConcurrentSendersAndCancel) {
  auto ex = std::make_shared<RecordingExchange>();
  ASSERT_TRUE(ex->start_stream(200).ok());
  std::atomic<int> cancels{0};
  ex->on_cancel([&] { cancels.fetch_add(1); });
  std::vector<std::thread> threads;
  std::atomic<int> sent{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (ex->send("x").ok()) sent.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] { ex->simulate_disconnect(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(cancels.load(), 1);
  EXPECT_EQ(static_cast<int>(ex->recorded().chunks.size()), sent.load());
}

TEST(Exchange, OwnsItsRequest) {
  Request req;
  req.method = "POST";
  req.body = "{\"a\":1}";
  req.headers.add("Content-Type", "application/json");
  RecordingExchange ex(req);
  EXPECT_EQ(ex.request().method, "POST");
  EXPECT_EQ(ex.request().body, "{\"a\":1}");
  EXPECT_EQ(ex.request().header("content-type").value_or(""), "application/json");
}

}  // namespace
}  // namespace inferd::server
