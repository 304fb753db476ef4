// Streamed responses over a real connection: ordering and flushing of chunks sent from another
// thread, cancellation on disconnect, slow readers, and graceful stop with streams in flight.
//
// A streaming endpoint registers a route and answers from the engine's thread like this:
//
//   router.add({"POST", "/chat/completions",
//               [engine](const Request& req, std::shared_ptr<Exchange> ex) {
//                 ex->start_stream(200, sse_headers());
//                 auto job = engine->submit(req.body, /*on_token=*/[ex](std::string json) {
//                   ex->send(sse_data(json));  // any thread; written at once
//                 }, /*on_done=*/[ex] { ex->send(std::string(kSseDone)); ex->finish(); });
//                 ex->on_cancel([job] { job->cancel(); });  // client gone or server stopping
//               }},
//              {"/v1", "/api/v1"});
//
// The tests below do the same with a plain thread in place of the engine.
#include <atomic>
#include <future>

#include "server/http/exchange.h"
#include "server/http/sse.h"
#include "server/http_test_support.h"

namespace inferd::server::testing {
namespace {

std::string frame(int i) {
  return sse_data("{\"i\":" + std::to_string(i) + "}");
}

std::string frames(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += frame(i);
  return out + std::string(kSseDone);
}

// Reads until the body holds `needle`; false on timeout or error.
bool read_until(TestClient& c, ResponseParser& p, std::string_view needle) {
  while (p.get().body().find(needle) == std::string::npos) {
    if (p.is_done() || !c.read_some(p, 3000ms)) return false;
  }
  return true;
}

bool read_to_end(TestClient& c, ResponseParser& p) {
  while (!p.is_done()) {
    if (!c.read_some(p, 3000ms)) return false;
  }
  return true;
}

// Sets `reason` to the exchange's cancel reason when its cancel callbacks run.
void report_cancel_reason(const std::shared_ptr<Exchange>& ex,
                          std::shared_ptr<std::promise<CancelReason>> reason) {
  std::weak_ptr<Exchange> weak = ex;
  ex->on_cancel([reason = std::move(reason), weak] {
    auto self = weak.lock();
    reason->set_value(self ? self->cancel_reason() : CancelReason::kNone);
  });
}

class HttpStreamingTest : public HttpServerFixture {};

TEST_F(HttpStreamingTest, HundredChunksFromAnotherThreadArriveInOrderAndFlushed) {
  auto first_seen = std::make_shared<std::promise<void>>();
  std::shared_future<void> first_seen_f = first_seen->get_future().share();
  auto handler_done = std::make_shared<std::atomic<bool>>(false);
  Router r;
  ASSERT_TRUE(r.add({"POST", "/stream",
                     [=, this](const Request&, std::shared_ptr<Exchange> ex) {
                       if (!ex->start_stream(200, sse_headers()).ok()) return;
                       spawn([=] {
                         (void)ex->send(frame(0));
                         // The rest only once the client has seen the first frame: it must have
                         // been flushed while this "generation" is still running.
                         (void)first_seen_f.wait_for(5s);
                         for (int i = 1; i < 100; ++i) (void)ex->send(frame(i));
                         (void)ex->send(std::string(kSseDone));
                         handler_done->store(true);
                         (void)ex->finish();
                       });
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r));
  TestClient c(port_);
  ASSERT_TRUE(c.write(make_request("POST", "/v1/stream", "{}")));
  ResponseParser p;
  ASSERT_TRUE(c.read_header(p));
  EXPECT_EQ(p.get().result_int(), 200);
  EXPECT_EQ(field(p.get(), "Content-Type"), "text/event-stream");
  EXPECT_EQ(field(p.get(), "Transfer-Encoding"), "chunked");
  EXPECT_EQ(field(p.get(), "Cache-Control"), "no-cache");
  EXPECT_FALSE(field(p.get(), "X-Request-Id").empty());
  ASSERT_TRUE(read_until(c, p, frame(0)));
  EXPECT_FALSE(handler_done->load());
  first_seen->set_value();
  ASSERT_TRUE(read_to_end(c, p));
  EXPECT_EQ(p.get().body(), frames(100));
  EXPECT_TRUE(p.get().keep_alive());
  // The connection is reusable after the stream.
  ASSERT_TRUE(c.write(make_request("POST", "/v1/nothing", "")));
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
}

TEST_F(HttpStreamingTest, Http10StreamEndsByClosing) {
  Router r;
  ASSERT_TRUE(r.add({"GET", "/stream",
                     [this](const Request&, std::shared_ptr<Exchange> ex) {
                       (void)ex->start_stream(200, {{"Content-Type", "text/plain"}});
                       spawn([ex] {
                         for (int i = 0; i < 5; ++i)
                           (void)ex->send("line " + std::to_string(i) + "\n");
                         (void)ex->finish();
                       });
                     }})
                  .ok());
  start_server(std::move(r));
  TestClient c(port_);
  ASSERT_TRUE(
      c.write(make_request("GET", "/stream", "", {{"Connection", "keep-alive"}}, "HTTP/1.0")));
  std::string received;
  ASSERT_TRUE(c.wait_closed(3000ms, &received));
  const size_t body_pos = received.find("\r\n\r\n");
  ASSERT_NE(body_pos, std::string::npos);
  EXPECT_EQ(received.substr(body_pos + 4), "line 0\nline 1\nline 2\nline 3\nline 4\n");
  EXPECT_EQ(received.find("Transfer-Encoding"), std::string::npos);
  EXPECT_NE(received.find("Connection: close"), std::string::npos);
}

TEST_F(HttpStreamingTest, ClientDisconnectMidStreamCancelsPromptly) {
  auto cancelled = std::make_shared<std::promise<CancelReason>>();
  auto kept = std::make_shared<std::promise<std::shared_ptr<Exchange>>>();
  Router r;
  ASSERT_TRUE(r.add({"POST", "/stream",
                     [=](const Request&, std::shared_ptr<Exchange> ex) {
                       report_cancel_reason(ex, cancelled);
                       (void)ex->start_stream(200, sse_headers());
                       (void)ex->send(frame(0));
                       kept->set_value(ex);  // the "engine" keeps generating
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r));
  auto exchange_f = kept->get_future();
  auto cancelled_f = cancelled->get_future();
  {
    TestClient c(port_);
    ASSERT_TRUE(c.write(make_request("POST", "/v1/stream", "{}")));
    ResponseParser p;
    ASSERT_TRUE(c.read_header(p));
    ASSERT_TRUE(read_until(c, p, frame(0)));
    c.close();
  }
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(cancelled_f.wait_for(2s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  EXPECT_EQ(cancelled_f.get(), CancelReason::kClientDisconnected);
  auto ex = exchange_f.get();
  EXPECT_TRUE(ex->cancelled());
  EXPECT_EQ(ex->send(frame(1)).code(), StatusCode::kIo);
  EXPECT_EQ(ex->finish().code(), StatusCode::kIo);
}

TEST_F(HttpStreamingTest, SlowReaderOverflowsTheQueueAndIsCancelled) {
  HttpServerOptions o = test_options();
  o.max_stream_queue_bytes = 256 * 1024;
  o.write_timeout = 5000ms;
  auto result = std::make_shared<std::promise<std::pair<Status, uint64_t>>>();
  auto reason = std::make_shared<std::promise<CancelReason>>();
  auto fired = std::make_shared<std::atomic<bool>>(false);
  Router r;
  ASSERT_TRUE(r.add({"GET", "/flood",
                     [=, this](const Request&, std::shared_ptr<Exchange> ex) {
                       report_cancel_reason(ex, reason);
                       ex->on_cancel([fired] { fired->store(true); });
                       (void)ex->start_stream(200, {{"Content-Type", "application/octet-stream"}});
                       spawn([ex, result, fired] {
                         const std::string chunk(64 * 1024, 'z');
                         uint64_t sent = 0;
                         Status st;
                         for (int i = 0; i < 8192 && st.ok(); ++i) {
                           st = ex->send(chunk);
                           if (st.ok()) sent += chunk.size();
                         }
                         result->set_value({st, sent});
                         // Like an engine, let go of the exchange once its cancellation ran.
                         for (int i = 0; i < 1000 && !fired->load(); ++i) {
                           std::this_thread::sleep_for(2ms);
                         }
                       });
                     }})
                  .ok());
  start_server(std::move(r), o);
  TestClient c(port_);  // never reads the body
  ASSERT_TRUE(c.write(make_request("GET", "/flood")));
  auto result_f = result->get_future();
  ASSERT_EQ(result_f.wait_for(5s), std::future_status::ready);
  const auto [status, sent] = result_f.get();
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted) << status.to_string();
  EXPECT_LT(sent, 512ull << 20);  // bounded by socket buffers plus the queue
  auto reason_f = reason->get_future();
  ASSERT_EQ(reason_f.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(reason_f.get(), CancelReason::kSlowClient);
}

TEST_F(HttpStreamingTest, DroppedUnfinishedStreamCancelsAndCloses) {
  auto cancelled = std::make_shared<std::promise<void>>();
  Router r;
  ASSERT_TRUE(r.add({"POST", "/stream",
                     [=](const Request&, std::shared_ptr<Exchange> ex) {
                       ex->on_cancel([cancelled] { cancelled->set_value(); });
                       (void)ex->start_stream(200, sse_headers());
                       (void)ex->send(frame(0));
                       // Returns without finish() and without keeping the exchange.
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r));
  TestClient c(port_);
  ASSERT_TRUE(c.write(make_request("POST", "/v1/stream", "{}")));
  ResponseParser p;
  ASSERT_TRUE(c.read_header(p));
  ASSERT_TRUE(read_until(c, p, frame(0)));
  EXPECT_EQ(cancelled->get_future().wait_for(2s), std::future_status::ready);
  EXPECT_TRUE(c.wait_closed(2000ms));
  EXPECT_FALSE(p.is_done());
}

TEST_F(HttpStreamingTest, StalledWriteTimesOutAndCancels) {
  HttpServerOptions o = test_options();
  o.max_stream_queue_bytes = 1ull << 30;
  o.write_timeout = 300ms;
  auto reason = std::make_shared<std::promise<CancelReason>>();
  Router r;
  ASSERT_TRUE(r.add({"GET", "/flood",
                     [=, this](const Request&, std::shared_ptr<Exchange> ex) {
                       report_cancel_reason(ex, reason);
                       (void)ex->start_stream(200, {{"Content-Type", "application/octet-stream"}});
                       spawn([ex] {
                         const std::string chunk(256 * 1024, 'z');
                         // Until the connection gives up on the stalled reader (bounded: 256 MiB).
                         for (int i = 0; i < 1024 && ex->send(chunk).ok(); ++i) {
                           std::this_thread::sleep_for(1ms);
                         }
                       });
                     }})
                  .ok());
  start_server(std::move(r), o);
  TestClient c(port_);  // never reads the body
  ASSERT_TRUE(c.write(make_request("GET", "/flood")));
  auto reason_f = reason->get_future();
  ASSERT_EQ(reason_f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(reason_f.get(), CancelReason::kSlowClient);
}

TEST_F(HttpStreamingTest, GracefulStopLetsAStreamInFlightFinish) {
  HttpServerOptions o = test_options();
  o.shutdown_deadline = 3000ms;
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  Router r;
  ASSERT_TRUE(r.add({"POST", "/stream",
                     [=, this](const Request&, std::shared_ptr<Exchange> ex) {
                       ex->on_cancel([cancelled] { cancelled->store(true); });
                       (void)ex->start_stream(200, sse_headers());
                       spawn([ex] {
                         for (int i = 0; i < 10; ++i) {
                           (void)ex->send(frame(i));
                           std::this_thread::sleep_for(30ms);
                         }
                         (void)ex->send(std::string(kSseDone));
                         (void)ex->finish();
                       });
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r), o);
  TestClient idle(port_);
  ASSERT_TRUE(idle.write(make_request("POST", "/v1/none", "")));
  ASSERT_TRUE(idle.read_response());
  TestClient c(port_);
  ASSERT_TRUE(c.write(make_request("POST", "/v1/stream", "{}")));
  ResponseParser p;
  ASSERT_TRUE(c.read_header(p));
  ASSERT_TRUE(read_until(c, p, frame(0)));

  std::chrono::steady_clock::duration stop_took{};
  std::thread stopper([&] {
    const auto t0 = std::chrono::steady_clock::now();
    server_->stop();
    stop_took = std::chrono::steady_clock::now() - t0;
  });
  EXPECT_TRUE(idle.wait_closed(2000ms));  // idle keep-alive connections close at once
  ASSERT_TRUE(read_to_end(c, p));
  stopper.join();
  EXPECT_EQ(p.get().body(), frames(10));
  EXPECT_FALSE(cancelled->load());
  EXPECT_LT(stop_took, 2500ms);
  EXPECT_TRUE(c.wait_closed(1000ms));
  TestClient late(port_);
  EXPECT_FALSE(late.connected() && late.request("GET", "/v1/stream").has_value());
}

TEST_F(HttpStreamingTest, StopCancelsStreamsStillRunningAtTheDeadline) {
  HttpServerOptions o = test_options();
  o.shutdown_deadline = 300ms;
  auto cancelled = std::make_shared<std::promise<CancelReason>>();
  auto kept = std::make_shared<std::promise<std::shared_ptr<Exchange>>>();
  Router r;
  ASSERT_TRUE(r.add({"POST", "/stream",
                     [=](const Request&, std::shared_ptr<Exchange> ex) {
                       report_cancel_reason(ex, cancelled);
                       (void)ex->start_stream(200, sse_headers());
                       (void)ex->send(frame(0));
                       kept->set_value(ex);  // never finishes on its own
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r), o);
  TestClient c(port_);
  ASSERT_TRUE(c.write(make_request("POST", "/v1/stream", "{}")));
  ResponseParser p;
  ASSERT_TRUE(c.read_header(p));
  ASSERT_TRUE(read_until(c, p, frame(0)));

  const auto t0 = std::chrono::steady_clock::now();
  server_->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2500ms);
  auto cancelled_f = cancelled->get_future();
  ASSERT_EQ(cancelled_f.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(cancelled_f.get(), CancelReason::kServerStopping);
  EXPECT_TRUE(c.wait_closed(1000ms));
  EXPECT_FALSE(p.is_done());  // the client sees a truncated stream

  // The exchange outlives the server harmlessly.
  auto ex = kept->get_future().get();
  server_.reset();
  EXPECT_EQ(ex->send(frame(1)).code(), StatusCode::kIo);
  EXPECT_EQ(ex->finish().code(), StatusCode::kIo);
}

TEST_F(HttpStreamingTest, StopCalledFromAHandler) {
  Router r;
  ASSERT_TRUE(r.add({"POST", "/shutdown",
                     [this](const Request&, std::shared_ptr<Exchange> ex) {
                       server_->stop();  // on an I/O thread: starts the shutdown, returns
                       (void)ex->respond(202, "text/plain", "stopping");
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r));
  TestClient c(port_);
  auto res = c.request("POST", "/v1/shutdown", "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 202);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(c.wait_closed(1000ms));
  server_->stop();  // joins
  EXPECT_EQ(server_->num_open_connections(), 0u);
}

}  // namespace
}  // namespace inferd::server::testing
