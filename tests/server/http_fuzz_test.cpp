// Property test of the HTTP transport: thousands of random and mutated requests against a
// running server. Every connection must end promptly (the client half-closes after writing),
// whatever the server sends back must be an HTTP/1.1 response, and afterwards the server still
// answers a normal request. Deterministic: each worker thread has a fixed seed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>

#include "server/http/exchange.h"
#include "server/http/sse.h"
#include "server/http_test_support.h"

namespace inferd::server::testing {
namespace {

Router fuzz_router() {
  Router r;
  Status st = r.add({"GET", "/health", [](const Request&, std::shared_ptr<Exchange> ex) {
                       (void)ex->respond(200, "text/plain", "ok");
                     }});
  st = r.add({"POST", "/echo",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                (void)ex->respond(200, "application/octet-stream", req.body);
              }},
             {"/v1", "/api/v1"});
  st = r.add({"GET", "/items/{id}",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                (void)ex->respond(200, "text/plain", std::string(req.param("id").value_or("")));
              }},
             {"/v1"});
  st = r.add({"POST", "/stream",
              [](const Request&, std::shared_ptr<Exchange> ex) {
                (void)ex->start_stream(200, sse_headers());
                for (int i = 0; i < 3; ++i) (void)ex->send(sse_data("{\"i\":1}"));
                (void)ex->send(std::string(kSseDone));
                (void)ex->finish();
              }},
             {"/v1"});
  EXPECT_TRUE(st.ok());
  return r;
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> kCorpus = {
      "GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /health HTTP/1.0\r\n\r\n",
      "POST /v1/echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 11\r\n\r\n{\"a\":[1,2]}",
      "POST /api/v1/echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
      "GET /v1/items/abc%20d?x=1&y=%2F HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc\r\n\r\n",
      "POST /v1/stream HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
      "OPTIONS /v1/echo HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /v1/echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
      "DELETE /v1/items/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "GET http://a/health HTTP/1.1\r\nHost: a\r\n\r\n",
  };
  return kCorpus;
}

std::string mutate(std::mt19937& rng, std::string s) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int num_mutations = 1 + static_cast<int>(rng() % 4);
  static const char* const kTokens[] = {"\r\n",
                                        "\r\n\r\n",
                                        ":",
                                        " ",
                                        "%",
                                        "%00",
                                        "/../",
                                        "99999999999999999999",
                                        "-1",
                                        "\0",
                                        "chunked",
                                        "\xff",
                                        "Content-Length: 5\r\n",
                                        "Transfer-Encoding: chunked\r\n"};
  for (int m = 0; m < num_mutations; ++m) {
    switch (rng() % 8) {
      case 0:  // flip one byte
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
        break;
      case 1:  // insert random bytes
        s.insert(pick(s.size() + 1), std::string(1 + pick(8), static_cast<char>(rng())));
        break;
      case 2: {  // delete a range
        if (s.empty()) break;
        const size_t pos = pick(s.size());
        s.erase(pos, 1 + pick(16));
        break;
      }
      case 3: {  // duplicate a range
        if (s.empty()) break;
        const size_t pos = pick(s.size());
        s.insert(pos, s.substr(pos, 1 + pick(64)));
        break;
      }
      case 4:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 5: {  // insert a token that matters to the grammar
        const std::string token = kTokens[pick(std::size(kTokens))];
        s.insert(pick(s.size() + 1), token);
        break;
      }
      case 6:  // pipeline another request
        s += corpus()[pick(corpus().size())];
        break;
      case 7:  // a long run
        s.insert(pick(s.size() + 1), std::string(pick(6000), static_cast<char>('A' + pick(26))));
        break;
    }
  }
  return s;
}

// One exchange on a plain blocking socket (lighter than TestClient for thousands of cases):
// connects, writes `bytes`, half-closes, and reads until the server closes. Returns false when
// the connection could not be made or the server kept it open past `timeout`.
bool send_and_wait_closed(uint16_t port, const std::string& bytes, Millis timeout,
                          std::string* received) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool closed = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) {
    size_t off = 0;
    while (off < bytes.size()) {  // the server may refuse early: stop writing then
      const ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (true) {
      const auto left =
          std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed = true;  // EOF or reset
        break;
      }
      received->append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return closed;
}

class HttpFuzzTest : public HttpServerFixture {};

TEST_F(HttpFuzzTest, RandomAndMutatedRequestsNeverHangOrCrashTheServer) {
  HttpServerOptions o = test_options();
  o.num_io_threads = 2;
  o.max_header_bytes = 4096;
  o.max_body_bytes = 16 * 1024;
  o.header_timeout = 1000ms;
  o.body_timeout = 1000ms;
  start_server(fuzz_router(), o);

  constexpr int kThreads = 4;
  constexpr int kCasesPerThread = 500;
  std::atomic<int> hangs{0};
  std::atomic<int> bad_responses{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      for (int i = 0; i < kCasesPerThread; ++i) {
        std::string bytes;
        if (rng() % 10 == 0) {
          bytes.resize(rng() % 512);
          for (char& ch : bytes) ch = static_cast<char>(rng());
        } else {
          bytes = mutate(rng, corpus()[rng() % corpus().size()]);
        }
        std::string received;
        if (!send_and_wait_closed(port_, bytes, 3000ms, &received)) {
          hangs.fetch_add(1);
          ADD_FAILURE() << "connection not closed for input: " << ::testing::PrintToString(bytes);
        }
        if (!received.empty()) {
          answered.fetch_add(1);
          if (received.rfind("HTTP/1.1 ", 0) != 0) {
            bad_responses.fetch_add(1);
            ADD_FAILURE() << "not an HTTP response: "
                          << ::testing::PrintToString(received.substr(0, 80));
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(hangs.load(), 0);
  EXPECT_EQ(bad_responses.load(), 0);
  EXPECT_GT(answered.load(), kThreads * kCasesPerThread / 4);  // the mutations are not all fatal

  TestClient c(port_);
  auto res = c.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  auto echo = c.request("POST", "/v1/echo", "still fine");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body(), "still fine");
}

TEST_F(HttpFuzzTest, PipelinedRequestsAreAnsweredInOrder) {
  start_server(fuzz_router());
  std::mt19937 rng(99);
  TestClient c(port_);
  std::string batch;
  std::vector<std::string> expected;
  for (int i = 0; i < 20; ++i) {
    const std::string body = "body-" + std::to_string(rng() % 100000);
    switch (i % 3) {
      case 0:
        batch += make_request("POST", "/v1/echo", body);
        expected.push_back(body);
        break;
      case 1:
        batch += make_request("GET", "/v1/items/" + body);
        expected.push_back(body);
        break;
      case 2:
        batch += make_request("GET", "/health");
        expected.push_back("ok");
        break;
    }
  }
  ASSERT_TRUE(c.write(batch));
  for (const std::string& want : expected) {
    auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), want);
  }
}

}  // namespace
}  // namespace inferd::server::testing
