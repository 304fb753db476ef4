// Test support for the HTTP transport: a blocking HTTP client on 127.0.0.1 built on Beast (every
// operation has a deadline, so a misbehaving server fails a test instead of hanging it) and a
// fixture that owns a server on a free port and the worker threads handlers start.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/header_map.h"
#include "server/http/http_server.h"

namespace inferd::server::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;
using Response = http::response<http::string_body>;
using ResponseParser = http::response_parser<http::string_body>;

inline std::string field(const Response& res, std::string_view name) {
  const auto v = res[beast::string_view(name.data(), name.size())];
  return std::string(v.data(), v.size());
}

// "METHOD target HTTP/1.1" with Host, the given fields, Content-Length when there is a body or
// the method is POST, and the body.
inline std::string make_request(std::string_view method, std::string_view target,
                                std::string_view body = "", const HeaderList& headers = {},
                                std::string_view version = "HTTP/1.1") {
  std::string out;
  out += method;
  out += ' ';
  out += target;
  out += ' ';
  out += version;
  out += "\r\nHost: 127.0.0.1\r\n";
  for (const auto& [n, v] : headers) out += n + ": " + v + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out += body;
  return out;
}

class TestClient {
 public:
  explicit TestClient(uint16_t port) : stream_(ioc_) {
    boost::system::error_code ec;
    stream_.socket().connect({net::ip::make_address("127.0.0.1"), port}, ec);
    connected_ = !ec;
  }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return connected_; }
  beast::tcp_stream& stream() { return stream_; }
  boost::system::error_code last_error() const { return last_error_; }

  bool write(std::string_view bytes, Millis timeout = 3000ms) {
    return !run(timeout, [&](auto handler) {
      net::async_write(stream_, net::buffer(bytes.data(), bytes.size()), handler);
    });
  }

  std::optional<Response> read_response(Millis timeout = 5000ms) {
    ResponseParser parser;
    parser.body_limit(boost::none);
    if (run(timeout, [&](auto handler) { http::async_read(stream_, buffer_, parser, handler); })) {
      return std::nullopt;
    }
    return parser.release();
  }

  std::optional<Response> request(std::string_view method, std::string_view target,
                                  std::string_view body = "", const HeaderList& headers = {}) {
    if (!write(make_request(method, target, body, headers))) return std::nullopt;
    return read_response();
  }

  // Reads the head of a streamed response into `parser`.
  bool read_header(ResponseParser& parser, Millis timeout = 5000ms) {
    parser.body_limit(boost::none);
    return !run(timeout,
                [&](auto handler) { http::async_read_header(stream_, buffer_, parser, handler); });
  }
  // Reads and parses what has arrived of the body.
  bool read_some(ResponseParser& parser, Millis timeout = 5000ms) {
    return !run(timeout,
                [&](auto handler) { http::async_read_some(stream_, buffer_, parser, handler); });
  }

  // Reads raw bytes until the server closes the connection (true) or `timeout` passes (false).
  bool wait_closed(Millis timeout, std::string* received = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (received != nullptr && buffer_.size() > 0) {
      const auto data = buffer_.data();
      received->append(static_cast<const char*>(data.data()), data.size());
    }
    buffer_.consume(buffer_.size());
    char scratch[4096];
    while (true) {
      const auto left =
          std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      size_t got = 0;
      const auto ec = run(left, [&](auto handler) {
        stream_.async_read_some(net::buffer(scratch), [&got, handler](auto e, size_t n) mutable {
          got = n;
          handler(e, n);
        });
      });
      if (received != nullptr) received->append(scratch, got);
      if (ec == beast::error::timeout) return false;
      if (ec) return true;
    }
  }

  void shutdown_send() {
    boost::system::error_code ec;
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  }
  void close() {
    boost::system::error_code ec;
    stream_.socket().close(ec);
  }

 private:
  template <typename Start>
  boost::system::error_code run(Millis timeout, Start&& start) {
    boost::system::error_code result;
    bool done = false;
    stream_.expires_after(timeout);
    start([&](boost::system::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    while (!done && ioc_.run_one() > 0) {
    }
    if (stream_.socket().is_open()) stream_.expires_never();
    last_error_ = result;
    return result;
  }

  net::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
  boost::system::error_code last_error_;
};

// Options with short deadlines for tests.
inline HttpServerOptions test_options() {
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.num_io_threads = 2;
  o.header_timeout = 2000ms;
  o.body_timeout = 2000ms;
  o.idle_timeout = 5000ms;
  o.write_timeout = 2000ms;
  o.shutdown_deadline = 2000ms;
  return o;
}

class HttpServerFixture : public ::testing::Test {
 protected:
  void start_server(Router router, HttpServerOptions options = test_options()) {
    server_ = std::make_unique<HttpServer>(options, std::move(router));
    const Status st = server_->start();
    ASSERT_TRUE(st.ok()) << st.to_string();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  // A new connection gets 200 for GET `health_path`.
  void expect_healthy(std::string_view health_path = "/health") {
    TestClient c(port_);
    auto res = c.request("GET", health_path);
    ASSERT_TRUE(res) << "no answer to GET " << health_path;
    EXPECT_EQ(res->result_int(), 200);
  }

  // Runs `fn` on a new thread, joined in TearDown (fn must finish on its own).
  void spawn(std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(workers_mu_);
    workers_.emplace_back(std::move(fn));
  }

  void TearDown() override {
    if (server_) server_->stop();
    std::vector<std::thread> workers;
    {
      std::lock_guard<std::mutex> lock(workers_mu_);
      workers.swap(workers_);
    }
    for (auto& t : workers) t.join();
    server_.reset();
  }

  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;

 private:
  std::mutex workers_mu_;
  std::vector<std::thread> workers_;
};

}  // namespace inferd::server::testing
