// The HTTP transport against a real client on 127.0.0.1: keep-alive, routing errors, limits,
// malformed input, timeouts, the connection cap and concurrent clients.
#include <atomic>
#include <future>

#include <nlohmann/json.hpp>

#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/http_test_support.h"

namespace inferd::server::testing {
namespace {

// Routes shared by the tests: /health at the root; echo, items and failing handlers under
// /v1 and /api/v1.
Router test_router() {
  Router r;
  Status st = r.add({"GET", "/health",
                     [](const Request&, std::shared_ptr<Exchange> ex) {
                       (void)ex->respond(200, "text/plain", "ok");
                     },
                     AuthScope::kPublic, RateClass::kUnlimited});
  st = r.add({"POST", "/echo",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                (void)ex->respond(200, req.header("content-type").value_or("text/plain"), req.body);
              }},
             {"/v1", "/api/v1"});
  st = r.add({"GET", "/items/{id}",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                nlohmann::json j;
                j["id"] = req.param("id").value_or("");
                j["q"] = req.query.get_or("q", "");
                j["path"] = req.path;
                j["pattern"] = req.route_pattern;
                j["client"] = req.client_address;
                j["header"] = req.header("X-Test").value_or("");
                j["scope"] = auth_scope_name(req.auth_scope);
                j["service"] = req.caller.service;
                (void)ex->respond(200, kJsonContentType, j.dump());
              },
              AuthScope::kInference, RateClass::kLight},
             {"/v1", "/api/v1"});
  st = r.add({"DELETE", "/items/{id}",
              [](const Request&, std::shared_ptr<Exchange> ex) { (void)ex->respond(204, "", ""); }},
             {"/v1"});
  st = r.add({"GET", "/throw",
              [](const Request&, std::shared_ptr<Exchange>) -> void {
                throw std::runtime_error("handler failure");
              }},
             {"/v1"});
  st = r.add({"GET", "/drop", [](const Request&, std::shared_ptr<Exchange>) {}}, {"/v1"});
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(r.size(), 8u);
  return r;
}

void expect_envelope(const Response& res, int status, std::string_view type) {
  EXPECT_EQ(res.result_int(), status);
  EXPECT_EQ(field(res, "Content-Type"), "application/json");
  EXPECT_FALSE(field(res, "X-Request-Id").empty());
  const auto j = nlohmann::json::parse(res.body(), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << res.body();
  ASSERT_TRUE(j.contains("error")) << res.body();
  const auto& e = j["error"];
  EXPECT_TRUE(e.at("message").is_string());
  EXPECT_EQ(e.at("type"), type);
  EXPECT_TRUE(e.contains("param"));
  EXPECT_TRUE(e.contains("code"));
}

class HttpServerTest : public HttpServerFixture {};

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start_server(test_router());
  TestClient c(port_);
  ASSERT_TRUE(c.connected());
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const std::string body = "{\"n\":" + std::to_string(i) + "}";
    auto res = c.request("POST", "/v1/echo", body, {{"Content-Type", "application/json"}});
    ASSERT_TRUE(res) << c.last_error().message();
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(res->body(), body);
    EXPECT_EQ(field(*res, "Content-Type"), "application/json");
    EXPECT_TRUE(res->keep_alive());
    ids.insert(field(*res, "X-Request-Id"));
    auto health = c.request("GET", "/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->body(), "ok");
    ids.insert(field(*health, "X-Request-Id"));
  }
  EXPECT_EQ(ids.size(), 10u);  // a fresh id per request
  EXPECT_EQ(server_->num_open_connections(), 1u);

  // Connection: close is honoured.
  auto last = c.request("GET", "/health", "", {{"Connection", "close"}});
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->keep_alive());
  EXPECT_TRUE(c.wait_closed(2000ms));
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  start_server(test_router());
  {
    TestClient c(port_);
    ASSERT_TRUE(c.write(make_request("GET", "/health", "", {}, "HTTP/1.0")));
    auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), "ok");
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
  TestClient c(port_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        c.write(make_request("GET", "/health", "", {{"Connection", "keep-alive"}}, "HTTP/1.0")));
    auto res = c.read_response();
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(field(*res, "Connection"), "keep-alive");
  }
}

TEST_F(HttpServerTest, RequestIdIsGeneratedOrAccepted) {
  start_server(test_router());
  TestClient c(port_);
  auto res = c.request("GET", "/health", "", {{"X-Request-Id", "client-abc_1.2:3"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "X-Request-Id"), "client-abc_1.2:3");
  res = c.request("GET", "/health", "", {{"X-Request-Id", "bad id with spaces"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "X-Request-Id").rfind("req_", 0), 0u);
}

TEST_F(HttpServerTest, AuthenticatorNamesTheCallerOrRefusesBeforeTheHandler) {
  HttpServerOptions o = test_options();
  o.authenticate = [](const Request& req) -> std::variant<Caller, ApiError> {
    if (req.auth_scope == AuthScope::kPublic) return Caller{};
    const auto key = req.header("Authorization");
    if (!key) return authentication_error("missing key");
    if (*key == "Bearer limited") {
      ApiError e = rate_limit_error("slow down", 7);
      e.headers = {{"X-RateLimit-Limit", "10"}};
      return e;
    }
    return Caller{.service = std::string(key->substr(key->find(' ') + 1)), .key_id = "k1",
                  .response_headers = {{"X-RateLimit-Remaining", "9"}}};
  };
  start_server(test_router(), o);
  TestClient c(port_);
  auto res = c.request("GET", "/v1/items/3");
  ASSERT_TRUE(res);
  expect_envelope(*res, 401, "authentication_error");
  res = c.request("GET", "/v1/items/3", "", {{"Authorization", "Bearer limited"}});
  ASSERT_TRUE(res);
  expect_envelope(*res, 429, "rate_limit_error");
  EXPECT_EQ(field(*res, "Retry-After"), "7");
  EXPECT_EQ(field(*res, "X-RateLimit-Limit"), "10");
  res = c.request("GET", "/v1/items/3", "", {{"Authorization", "Bearer vista"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  EXPECT_EQ(field(*res, "X-RateLimit-Remaining"), "9");  // the caller's fields on its responses
  EXPECT_EQ(nlohmann::json::parse(res->body())["service"], "vista");
  res = c.request("GET", "/health");  // public: the authenticator lets it through anonymously
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

TEST_F(HttpServerTest, UnknownPathIs404AndOtherMethodIs405) {
  start_server(test_router());
  TestClient c(port_);
  auto res = c.request("POST", "/v1/nothing", "{}");
  ASSERT_TRUE(res);
  expect_envelope(*res, 404, "invalid_request_error");
  EXPECT_NE(res->body().find("POST /v1/nothing"), std::string::npos);
  EXPECT_TRUE(res->keep_alive());

  res = c.request("GET", "/v1/echo");
  ASSERT_TRUE(res);
  expect_envelope(*res, 405, "invalid_request_error");
  EXPECT_EQ(field(*res, "Allow"), "OPTIONS, POST");

  res = c.request("OPTIONS", "/v1/items/3");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_EQ(field(*res, "Allow"), "DELETE, GET, OPTIONS");
  res = c.request("OPTIONS", "/nowhere");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  res = c.request("OPTIONS", "*");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);

  res = c.request("DELETE", "/v1/items/3");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  // The connection survived every answer.
  res = c.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "ok");
}

TEST_F(HttpServerTest, PathParametersQueryAndPrefixes) {
  start_server(test_router());
  TestClient c(port_);
  auto res =
      c.request("GET", "/v1/items/org%2Fmodel%20x?q=hello+world&other=1", "", {{"x-test", "yes"}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200) << res->body();
  auto j = nlohmann::json::parse(res->body());
  EXPECT_EQ(j["id"], "org/model x");
  EXPECT_EQ(j["q"], "hello world");
  EXPECT_EQ(j["path"], "/v1/items/org%2Fmodel%20x");
  EXPECT_EQ(j["pattern"], "/v1/items/{id}");
  EXPECT_EQ(j["client"], "127.0.0.1");
  EXPECT_EQ(j["header"], "yes");
  EXPECT_EQ(j["scope"], "inference");

  res = c.request("GET", "/api/v1/items/7");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  j = nlohmann::json::parse(res->body());
  EXPECT_EQ(j["id"], "7");
  EXPECT_EQ(j["pattern"], "/api/v1/items/{id}");

  res = c.request("GET", "/items/7");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  res = c.request("GET", "/v1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
}

TEST_F(HttpServerTest, PathTraversalAndBadTargetsAre400) {
  start_server(test_router());
  for (const char* target :
       {"/v1/items/..%2F..%2Fetc%2Fpasswd", "/v1/../health", "/v1/items/%2e%2e", "/v1/items/%zz",
        "/v1/items/a%00b", "ftp://host/health", "health"}) {
    TestClient c(port_);
    auto res = c.request("GET", target);
    ASSERT_TRUE(res) << target;
    expect_envelope(*res, 400, "invalid_request_error");
  }
}

TEST_F(HttpServerTest, HandlerThatThrowsOrDropsTheExchangeGets500) {
  start_server(test_router());
  TestClient c(port_);
  auto res = c.request("GET", "/v1/throw");
  ASSERT_TRUE(res);
  expect_envelope(*res, 500, "server_error");
  EXPECT_EQ(res->body().find("handler failure"), std::string::npos);  // internals stay internal
  res = c.request("GET", "/v1/drop");
  ASSERT_TRUE(res);
  expect_envelope(*res, 500, "server_error");
  res = c.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

TEST_F(HttpServerTest, OversizedBodyIs413BeforeItIsRead) {
  HttpServerOptions o = test_options();
  o.max_body_bytes = 4096;
  start_server(test_router(), o);

  {  // Announced by Content-Length: answered after the header, with most of the body unsent.
    TestClient c(port_);
    const std::string head =
        "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n";
    ASSERT_TRUE(c.write(head + std::string(1000, 'a')));
    const auto t0 = std::chrono::steady_clock::now();
    auto res = c.read_response(2000ms);
    ASSERT_TRUE(res) << c.last_error().message();
    expect_envelope(*res, 413, "invalid_request_error");
    EXPECT_FALSE(res->keep_alive());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
  {  // Chunked: refused when the chunks pass the limit.
    TestClient c(port_);
    std::string req = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 8; ++i) req += "400\r\n" + std::string(1024, 'b') + "\r\n";
    ASSERT_TRUE(c.write(req));
    auto res = c.read_response(2000ms);
    ASSERT_TRUE(res);
    expect_envelope(*res, 413, "invalid_request_error");
  }
  {  // At the limit: accepted, chunked or not.
    TestClient c(port_);
    auto res = c.request("POST", "/v1/echo", std::string(4096, 'c'));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(res->body().size(), 4096u);
    std::string req = "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    req += "800\r\n" + std::string(2048, 'd') + "\r\n0\r\n\r\n";
    ASSERT_TRUE(c.write(req));
    res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body(), std::string(2048, 'd'));
  }
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  start_server(test_router());
  TestClient c(port_);
  ASSERT_TRUE(
      c.write("POST /v1/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
              "Content-Length: 5\r\n\r\n"));
  ResponseParser interim;
  ASSERT_TRUE(c.read_header(interim));
  EXPECT_EQ(interim.get().result_int(), 100);
  ASSERT_TRUE(c.write("hello"));
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body(), "hello");
}

// Each malformed input is answered with a 4xx envelope or closed, and never crashes the server.
TEST_F(HttpServerTest, MalformedRequestsAreAnsweredOrClosed) {
  start_server(test_router());
  const std::string huge_header =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'h') + "\r\n\r\n";
  std::string many_fields = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 2000; ++i) many_fields += "X-F" + std::to_string(i) + ": v\r\n";
  many_fields += "\r\n";
  const struct {
    std::string bytes;
    int status;  // 0: closing without an answer is acceptable
  } cases[] = {
      {std::string("\x00\x01\x02\xff\xfe garbage\r\n\r\n", 18), 400},
      {"GET / HTTP/9.9\r\n\r\n", 400},
      {"G@T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET\r\n\r\n", 400},
      {"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET health HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"GET /health HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400},
      {"POST /v1/echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"POST /v1/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /v1/echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400},
      {"POST /v1/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
       "3\r\nabc\r\n0\r\n\r\n",
       400},
      {huge_header, 431},
      {many_fields, 431},
      {"GET /health HTTP/1.1\r\nHost: x\r\n", 0},  // truncated, then EOF
      {"\r\n\r\n\r\n", 400},
      {"BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", 405},  // a valid token, unknown method
  };
  for (const auto& tc : cases) {
    TestClient c(port_);
    ASSERT_TRUE(c.connected());
    (void)c.write(tc.bytes);
    c.shutdown_send();
    std::string received;
    EXPECT_TRUE(c.wait_closed(3000ms, &received)) << tc.bytes.substr(0, 40);
    if (tc.status != 0) {
      ASSERT_EQ(received.rfind("HTTP/1.1 " + std::to_string(tc.status), 0), 0u)
          << tc.bytes.substr(0, 40) << " -> " << received.substr(0, 60);
      EXPECT_NE(received.find("Content-Type: application/json"), std::string::npos);
      EXPECT_NE(received.find("{\"error\":{"), std::string::npos);
    }
  }
  expect_healthy();
}

TEST_F(HttpServerTest, SlowLorisHeaderIsCutOffAtTheHeaderTimeout) {
  HttpServerOptions o = test_options();
  o.header_timeout = 300ms;
  start_server(test_router(), o);
  TestClient slow(port_);
  const std::string req =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaa\r\n\r\n";
  const auto t0 = std::chrono::steady_clock::now();
  bool cut = false;
  for (char ch : req) {
    if (!slow.write(std::string_view(&ch, 1), 500ms)) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(25ms);
    if (std::chrono::steady_clock::now() - t0 > 3000ms) break;
  }
  std::string received;
  if (!cut) {
    EXPECT_TRUE(slow.wait_closed(2000ms, &received));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
  if (!received.empty()) {
    EXPECT_EQ(received.rfind("HTTP/1.1 408", 0), 0u) << received;
  }

  expect_healthy();  // other clients were served meanwhile and still are
}

TEST_F(HttpServerTest, SlowBodyIsCutOffAndIdleConnectionsClose) {
  HttpServerOptions o = test_options();
  o.body_timeout = 300ms;
  o.idle_timeout = 300ms;
  start_server(test_router(), o);
  {
    TestClient c(port_);
    ASSERT_TRUE(c.write("POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"));
    auto res = c.read_response(2000ms);
    ASSERT_TRUE(res);
    expect_envelope(*res, 408, "invalid_request_error");
  }
  {
    TestClient c(port_);
    auto res = c.request("GET", "/health");
    ASSERT_TRUE(res);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.wait_closed(2000ms));
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
  }
  {  // Connected but silent.
    TestClient c(port_);
    EXPECT_TRUE(c.wait_closed(2000ms));
  }
}

TEST_F(HttpServerTest, ConnectionCapAnswers503) {
  HttpServerOptions o = test_options();
  o.max_connections = 2;
  o.overload_retry_after_s = 3;
  start_server(test_router(), o);
  auto a = std::make_unique<TestClient>(port_);
  TestClient b(port_);
  ASSERT_TRUE(a->request("GET", "/health"));
  ASSERT_TRUE(b.request("GET", "/health"));
  ASSERT_EQ(server_->num_open_connections(), 2u);

  TestClient over(port_);
  auto res = over.request("GET", "/health");
  ASSERT_TRUE(res) << over.last_error().message();
  expect_envelope(*res, 503, "server_error");
  EXPECT_EQ(field(*res, "Retry-After"), "3");
  EXPECT_FALSE(res->keep_alive());

  a.reset();  // frees a slot once the server sees the close
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    TestClient c(port_);
    auto r = c.request("GET", "/health");
    served = r && r->result_int() == 200;
    if (!served) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ConcurrentClients) {
  Router r = test_router();
  // A handler that answers later from another thread.
  ASSERT_TRUE(r.add({"POST", "/later",
                     [this](const Request&, std::shared_ptr<Exchange> ex) {
                       spawn([ex] {
                         std::this_thread::sleep_for(5ms);
                         (void)ex->respond(200, "text/plain", "later:" + ex->request().body);
                       });
                     }},
                    {"/v1"})
                  .ok());
  start_server(std::move(r));
  constexpr int kClients = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      TestClient c(port_);
      const std::string body = "client-" + std::to_string(i);
      for (int k = 0; k < 3; ++k) {
        auto res = c.request("POST", k % 2 == 0 ? "/v1/echo" : "/v1/later", body);
        const std::string want = k % 2 == 0 ? body : "later:" + body;
        if (res && res->result_int() == 200 && res->body() == want) ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * 3);
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  start_server(test_router());
  HttpServerOptions o = test_options();
  o.port = port_;
  HttpServer second(o, test_router());
  const Status st = second.start();
  EXPECT_EQ(st.code(), StatusCode::kIo);
  EXPECT_NE(st.message().find(std::to_string(port_)), std::string::npos) << st.message();
  EXPECT_EQ(second.port(), 0);

  HttpServerOptions bad = test_options();
  bad.num_io_threads = 0;
  HttpServer invalid(bad, Router());
  EXPECT_EQ(invalid.start().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_->start().code(), StatusCode::kInvalidArgument);  // started already
}

TEST_F(HttpServerTest, StopIsIdempotentFromManyThreads) {
  start_server(test_router());
  TestClient idle(port_);
  ASSERT_TRUE(idle.request("GET", "/health"));
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 4; ++i) stoppers.emplace_back([this] { server_->stop(); });
  for (auto& t : stoppers) t.join();
  server_->stop();
  EXPECT_EQ(server_->num_open_connections(), 0u);
  EXPECT_TRUE(idle.wait_closed(1000ms));
  TestClient late(port_);
  EXPECT_FALSE(late.connected() && late.request("GET", "/health").has_value());
}

}  // namespace
}  // namespace inferd::server::testing
