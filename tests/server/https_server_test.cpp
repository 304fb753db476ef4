// HttpServer over TLS with certificates made by the openssl tool at test time: the certificate
// chosen by SNI, protocol and cipher limits, plain HTTP on the TLS port, client certificates
// (required and optional), certificate reload, the redirect listener, security headers and
// CORS.
#include <atomic>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/http/router.h"
#include "server/tls_test_support.h"

namespace inferd::server::testing {
namespace {

Router make_router() {
  Router r;
  Status st = r.add({"GET", "/health",
                     [](const Request&, std::shared_ptr<Exchange> ex) {
                       (void)ex->respond(200, "text/plain", "ok");
                     },
                     AuthScope::kPublic, RateClass::kUnlimited});
  st = r.add({"GET", "/whoami",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                nlohmann::json j;
                j["tls"] = req.tls;
                j["server_name"] = req.tls_server_name;
                j["subject"] = req.client_cert_subject;
                (void)ex->respond(200, kJsonContentType, j.dump());
              }},
             {"/v1"});
  st = r.add({"POST", "/chat/completions",
              [](const Request& req, std::shared_ptr<Exchange> ex) {
                (void)ex->respond(200, kJsonContentType, "{}");
              }},
             {"/v1"});
  EXPECT_TRUE(st.ok());
  return r;
}

class HttpsServerTest : public HttpServerFixture {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.make_ca("ca", "/CN=inferd test CA")) << "the openssl tool is needed";
    ASSERT_TRUE(certs_.make_signed("a", "/CN=a.test", "ca", {"a.test"}));
    ASSERT_TRUE(certs_.make_signed("b", "/CN=b.test", "ca", {"b.test", "*.b.test"}, true));
    ASSERT_TRUE(certs_.make_signed("client", "/O=Example/CN=vista-backend", "ca", {}));
    ASSERT_TRUE(certs_.make_self_signed("rogue", "/O=Example/CN=vista-backend"));
  }

  HttpServerOptions tls_options(ClientCertMode mode = ClientCertMode::kNone) {
    HttpServerOptions o = test_options();
    o.tls.certificates = {{certs_.path("a.pem"), certs_.path("a.key")},
                          {certs_.path("b.pem"), certs_.path("b.key")}};
    o.tls.client_certs = mode;
    if (mode != ClientCertMode::kNone) o.tls.client_ca_file = certs_.path("ca.pem");
    return o;
  }

  TlsClientOptions client(std::string sni, std::string cert = "") {
    TlsClientOptions o;
    o.server_name = std::move(sni);
    if (!cert.empty()) {
      o.cert_file = certs_.path(cert + ".pem");
      o.key_file = certs_.path(cert + ".key");
    }
    return o;
  }

  void expect_tls_healthy() {
    TlsTestClient c(port_, client("a.test"));
    ASSERT_TRUE(c.handshake_ok()) << c.handshake_error().message();
    auto res = c.request("GET", "/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }

  nlohmann::json whoami(TlsTestClient& c) {
    auto res = c.request("GET", "/v1/whoami");
    if (!res || res->result_int() != 200) return nullptr;
    return nlohmann::json::parse(res->body(), nullptr, false);
  }

  TestCertificates certs_;
};

TEST_F(HttpsServerTest, EachDomainGetsItsCertificateBySni) {
  start_server(make_router(), tls_options());
  TlsTestClient a(port_, client("a.test"));
  ASSERT_TRUE(a.handshake_ok()) << a.handshake_error().message();
  EXPECT_EQ(a.peer_dns_names(), std::vector<std::string>{"a.test"});
  auto res = a.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);

  TlsTestClient b(port_, client("B.Test"));
  ASSERT_TRUE(b.handshake_ok());
  EXPECT_EQ(b.peer_dns_names(), (std::vector<std::string>{"b.test", "*.b.test"}));
  const auto who = whoami(b);
  ASSERT_TRUE(who.is_object());
  EXPECT_EQ(who["tls"], true);
  EXPECT_EQ(who["server_name"], "B.Test");
  EXPECT_EQ(who["subject"], "");

  TlsTestClient wildcard(port_, client("api.b.test"));
  ASSERT_TRUE(wildcard.handshake_ok());
  EXPECT_EQ(wildcard.peer_subject(), "/CN=b.test");
  // A wildcard covers one label only.
  TlsTestClient deep(port_, client("x.api.b.test"));
  ASSERT_TRUE(deep.handshake_ok());
  EXPECT_EQ(deep.peer_subject(), "/CN=a.test");

  // Unknown and absent names get the first certificate.
  TlsTestClient unknown(port_, client("c.test"));
  ASSERT_TRUE(unknown.handshake_ok());
  EXPECT_EQ(unknown.peer_dns_names(), std::vector<std::string>{"a.test"});
  TlsTestClient none(port_, client(""));
  ASSERT_TRUE(none.handshake_ok());
  EXPECT_EQ(none.peer_dns_names(), std::vector<std::string>{"a.test"});
  EXPECT_EQ(whoami(none)["server_name"], "");
}

TEST_F(HttpsServerTest, OldProtocolsAndWeakCiphersAreRefused) {
  start_server(make_router(), tls_options());
  TlsClientOptions tls11 = client("a.test");
  tls11.max_version = TLS1_1_VERSION;
  TlsTestClient old(port_, tls11);
  EXPECT_FALSE(old.handshake_ok());
  // The server refused it (an alert), the client could have spoken TLS 1.1.
  EXPECT_NE(old.handshake_error().message().find("alert"), std::string::npos)
      << old.handshake_error().message();

  TlsClientOptions tls12 = client("a.test");
  tls12.max_version = TLS1_2_VERSION;
  TlsTestClient modern12(port_, tls12);
  ASSERT_TRUE(modern12.handshake_ok()) << modern12.handshake_error().message();
  EXPECT_EQ(modern12.protocol(), "TLSv1.2");

  TlsClientOptions cbc = client("a.test");
  cbc.tls12_ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA";  // no AEAD
  TlsTestClient weak(port_, cbc);
  EXPECT_FALSE(weak.handshake_ok());

  TlsTestClient modern(port_, client("a.test"));
  ASSERT_TRUE(modern.handshake_ok());
  EXPECT_EQ(modern.protocol(), "TLSv1.3");
}

TEST_F(HttpsServerTest, PlainHttpOnTheTlsPortGetsNoAnswer) {
  start_server(make_router(), tls_options());
  TestClient plain(port_);
  ASSERT_TRUE(plain.connected());
  ASSERT_TRUE(plain.write(make_request("GET", "/health")));
  std::string received;
  EXPECT_TRUE(plain.wait_closed(3000ms, &received));
  EXPECT_EQ(received.find("HTTP/1.1"), std::string::npos) << received;
  expect_tls_healthy();
}

TEST_F(HttpsServerTest, AStalledHandshakeIsClosedAtTheHeaderDeadline) {
  HttpServerOptions o = tls_options();
  o.header_timeout = 300ms;
  start_server(make_router(), o);
  TestClient silent(port_);
  ASSERT_TRUE(silent.connected());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.wait_closed(3000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
}

TEST_F(HttpsServerTest, RequiredClientCertificates) {
  start_server(make_router(), tls_options(ClientCertMode::kRequired));
  TlsTestClient signed_client(port_, client("a.test", "client"));
  ASSERT_TRUE(signed_client.handshake_ok()) << signed_client.handshake_error().message();
  const auto who = whoami(signed_client);
  ASSERT_TRUE(who.is_object());
  EXPECT_EQ(who["subject"], "CN=vista-backend,O=Example");

  // TLS 1.3 reports a refused client certificate after the client's side of the handshake:
  // neither client gets an answer.
  TlsTestClient rogue(port_, client("a.test", "rogue"));
  EXPECT_FALSE(rogue.handshake_ok() && rogue.request("GET", "/health").has_value());
  TlsTestClient anonymous(port_, client("a.test"));
  EXPECT_FALSE(anonymous.handshake_ok() && anonymous.request("GET", "/health").has_value());
}

TEST_F(HttpsServerTest, OptionalClientCertificates) {
  start_server(make_router(), tls_options(ClientCertMode::kOptional));
  TlsTestClient anonymous(port_, client("a.test"));
  ASSERT_TRUE(anonymous.handshake_ok());
  const auto who = whoami(anonymous);
  ASSERT_TRUE(who.is_object());
  EXPECT_EQ(who["subject"], "");
  TlsTestClient signed_client(port_, client("b.test", "client"));
  ASSERT_TRUE(signed_client.handshake_ok());
  EXPECT_EQ(whoami(signed_client)["subject"], "CN=vista-backend,O=Example");
  // A certificate that is sent must verify.
  TlsTestClient rogue(port_, client("a.test", "rogue"));
  EXPECT_FALSE(rogue.handshake_ok() && rogue.request("GET", "/health").has_value());
}

TEST_F(HttpsServerTest, StartNamesBadFiles) {
  HttpServerOptions o = tls_options();
  o.tls.certificates[1].key_file = certs_.path("a.key");
  HttpServer mismatched(o, make_router());
  Status st = mismatched.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("b.pem"), std::string::npos) << st.message();

  o = tls_options();
  o.tls.certificates[0].cert_file = certs_.path("missing.pem");
  HttpServer missing(o, make_router());
  st = missing.start();
  EXPECT_EQ(st.code(), StatusCode::kIo);
  EXPECT_NE(st.message().find("missing.pem"), std::string::npos) << st.message();

  o = tls_options();
  o.tls.certificates[0].cert_file = certs_.path("a.ext");  // not PEM
  HttpServer garbage(o, make_router());
  st = garbage.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no PEM certificate"), std::string::npos) << st.message();

  o = tls_options(ClientCertMode::kRequired);
  o.tls.client_ca_file.clear();
  HttpServer no_ca(o, make_router());
  EXPECT_FALSE(no_ca.start().ok());
}

TEST_F(HttpsServerTest, ReloadSwapsCertificatesForNewConnectionsOnly) {
  start_server(make_router(), tls_options());
  TlsTestClient before(port_, client("a.test"));
  ASSERT_TRUE(before.handshake_ok());
  EXPECT_EQ(before.peer_subject(), "/CN=a.test");

  // Replace a.test's files with a new certificate and key.
  ASSERT_TRUE(certs_.make_signed("a2", "/CN=a.test renewed", "ca", {"a.test"}));
  fs::copy_file(certs_.path("a2.pem"), certs_.path("a.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(certs_.path("a2.key"), certs_.path("a.key"), fs::copy_options::overwrite_existing);
  TlsTestClient not_yet(port_, client("a.test"));
  ASSERT_TRUE(not_yet.handshake_ok());
  EXPECT_EQ(not_yet.peer_subject(), "/CN=a.test");

  const Status st = server_->reload_tls();
  ASSERT_TRUE(st.ok()) << st.to_string();
  TlsTestClient after(port_, client("a.test"));
  ASSERT_TRUE(after.handshake_ok());
  EXPECT_EQ(after.peer_subject(), "/CN=a.test renewed");
  // The keep-alive connection opened before still works.
  for (int i = 0; i < 2; ++i) {
    auto res = before.request("GET", "/health");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }

  // A broken file: the reload fails and the certificates stay.
  std::ofstream(certs_.path("b.key")) << "not a key\n";
  const Status broken = server_->reload_tls();
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.message().find("b.key"), std::string::npos) << broken.message();
  TlsTestClient still(port_, client("b.test"));
  ASSERT_TRUE(still.handshake_ok());
  EXPECT_EQ(still.peer_subject(), "/CN=b.test");
  TlsTestClient renewed(port_, client("a.test"));
  ASSERT_TRUE(renewed.handshake_ok());
  EXPECT_EQ(renewed.peer_subject(), "/CN=a.test renewed");
}

TEST_F(HttpsServerTest, ReloadWithoutTlsIsAnError) {
  start_server(make_router());
  EXPECT_FALSE(server_->reload_tls().ok());
}

TEST_F(HttpsServerTest, SecurityHeadersOverTlsAndPlain) {
  HttpServerOptions o = tls_options();
  o.tls.hsts_max_age_s = 1234;
  start_server(make_router(), o);
  TlsTestClient c(port_, client("a.test"));
  ASSERT_TRUE(c.handshake_ok());
  for (const char* target : {"/health", "/nope"}) {  // a handler's answer and the transport's
    auto res = c.request("GET", target);
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(field(*res, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(field(*res, "X-Frame-Options"), "DENY");
    EXPECT_EQ(field(*res, "Strict-Transport-Security"), "max-age=1234");
  }
  server_->stop();

  server_.reset();
  start_server(make_router());
  TestClient plain(port_);
  for (const char* target : {"/health", "/nope"}) {
    auto res = plain.request("GET", target);
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(field(*res, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(field(*res, "X-Frame-Options"), "DENY");
    EXPECT_EQ(field(*res, "Strict-Transport-Security"), "");
  }
}

TEST_F(HttpsServerTest, HstsZeroIsOff) {
  HttpServerOptions o = tls_options();
  o.tls.hsts_max_age_s = 0;
  start_server(make_router(), o);
  TlsTestClient c(port_, client("a.test"));
  auto res = c.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "Strict-Transport-Security"), "");
  EXPECT_EQ(field(*res, "X-Frame-Options"), "DENY");
}

TEST_F(HttpsServerTest, RedirectListenerSendsPlainHttpToHttps) {
  HttpServerOptions o = tls_options();
  o.tls.redirect_port = 0;
  // A free port for the redirect listener.
  {
    net::io_context ioc;
    net::ip::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
    o.tls.redirect_port = a.local_endpoint().port();
  }
  start_server(make_router(), o);
  ASSERT_EQ(server_->redirect_port(), o.tls.redirect_port);
  TestClient c(server_->redirect_port());
  ASSERT_TRUE(c.write("GET /v1/models?x=1 HTTP/1.1\r\nHost: api.example.com:8080\r\n\r\n"));
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 308);
  EXPECT_EQ(field(*res, "Location"),
            fmt::format("https://api.example.com:{}/v1/models?x=1", port_));
  EXPECT_EQ(field(*res, "X-Frame-Options"), "DENY");
  EXPECT_EQ(field(*res, "Strict-Transport-Security"), "");

  // The connection stays open for the next request.
  res = c.request("POST", "/v1/chat/completions", "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 308);
  EXPECT_EQ(field(*res, "Location"),
            fmt::format("https://127.0.0.1:{}/v1/chat/completions", port_));

  TestClient bad(server_->redirect_port());
  ASSERT_TRUE(bad.write("GET / HTTP/1.1\r\nHost: evil.com/x\r\n\r\n"));
  res = bad.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  TestClient absolute(server_->redirect_port());
  ASSERT_TRUE(absolute.write("GET http://evil.com/ HTTP/1.1\r\nHost: good.com\r\n\r\n"));
  res = absolute.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  TestClient no_host(server_->redirect_port());
  ASSERT_TRUE(no_host.write("GET / HTTP/1.0\r\n\r\n"));
  res = no_host.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
}

TEST_F(HttpsServerTest, CorsAllowlist) {
  HttpServerOptions o = test_options();
  o.cors_allowed_origins = {"https://app.example.com"};
  start_server(make_router(), o);
  TestClient c(port_);
  auto res = c.request("GET", "/health", "", {{"Origin", "https://app.example.com"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(field(*res, "Vary"), "Origin");
  EXPECT_NE(field(*res, "Access-Control-Expose-Headers").find("X-RateLimit-Remaining"),
            std::string::npos);
  // Also on the transport's own errors.
  res = c.request("GET", "/v1/nope", "", {{"Origin", "https://app.example.com"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "https://app.example.com");

  res = c.request("GET", "/health", "", {{"Origin", "https://evil.example.com"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(field(*res, "Vary"), "");
  res = c.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "");
}

TEST_F(HttpsServerTest, CorsPreflightNeverReachesTheAuthenticator) {
  HttpServerOptions o = test_options();
  o.cors_allowed_origins = {"https://app.example.com"};
  auto calls = std::make_shared<std::atomic<int>>(0);
  o.authenticate = [calls](const Request&) -> std::variant<Caller, ApiError> {
    ++*calls;
    return authentication_error("no key");
  };
  start_server(make_router(), o);
  TestClient c(port_);
  auto res = c.request(
      "OPTIONS", "/v1/chat/completions", "",
      {{"Origin", "https://app.example.com"},
       {"Access-Control-Request-Method", "POST"},
       {"Access-Control-Request-Headers", "authorization, content-type, x-stainless-os, x-evil"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(field(*res, "Access-Control-Allow-Methods"), "OPTIONS, POST");
  EXPECT_EQ(field(*res, "Access-Control-Allow-Headers"),
            "authorization, content-type, x-stainless-os");
  EXPECT_EQ(field(*res, "Access-Control-Max-Age"), "600");
  // Without requested headers: the whole list.
  res =
      c.request("OPTIONS", "/v1/whoami", "",
                {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "GET"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_NE(field(*res, "Access-Control-Allow-Headers").find("Authorization"), std::string::npos);
  EXPECT_NE(field(*res, "Access-Control-Allow-Headers").find("X-Session-ID"), std::string::npos);
  // Another origin: no CORS fields.
  res = c.request(
      "OPTIONS", "/v1/chat/completions", "",
      {{"Origin", "https://evil.example.com"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "");
  EXPECT_EQ(field(*res, "Access-Control-Allow-Methods"), "");
  // An unknown path is still 404.
  res =
      c.request("OPTIONS", "/v1/nope", "",
                {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
  EXPECT_EQ(calls->load(), 0);
  // A real request does reach it, and its refusal carries the CORS fields.
  res = c.request("POST", "/v1/chat/completions", "{}", {{"Origin", "https://app.example.com"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 401);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(calls->load(), 1);
}

TEST_F(HttpsServerTest, CorsWildcardEchoesTheOrigin) {
  HttpServerOptions o = test_options();
  o.cors_allowed_origins = {"*"};
  start_server(make_router(), o);
  TestClient c(port_);
  auto res = c.request("GET", "/health", "", {{"Origin", "http://localhost:3000"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(field(*res, "Access-Control-Allow-Origin"), "http://localhost:3000");
}

TEST_F(HttpsServerTest, StopClosesTlsConnectionsAndFinishesRequests) {
  start_server(make_router(), tls_options());
  TlsTestClient idle(port_, client("a.test"));
  ASSERT_TRUE(idle.handshake_ok());
  ASSERT_TRUE(idle.request("GET", "/health"));
  TestClient handshaking(port_);  // connected, no handshake yet
  ASSERT_TRUE(handshaking.connected());
  const auto start = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_EQ(server_->num_open_connections(), 0u);
}

}  // namespace
}  // namespace inferd::server::testing
