// Bearer JWTs end to end: `inferd serve --oidc-issuer` trusting an identity provider that this
// test serves on 127.0.0.1 (discovery document and JWKS), with tokens signed by the test's key:
// a valid token is accepted with the service and scopes of its claims, a tampered, expired or
// foreign-audience one gets 401, a token without the route's scope 403.
#include <chrono>
#include <csignal>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/http/http_server.h"
#include "testing/http_request.h"
#include "testing/jwt_test_signer.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

using nlohmann::json;

// The identity provider: discovery and JWKS of `key` at http://127.0.0.1:<port>.
class TestIdentityProvider {
 public:
  explicit TestIdentityProvider(const testing::TestSigningKey& key) {
    server::Router router;
    const auto add = [&](const char* pattern, server::Handler handler) {
      ASSERT_TRUE(router.add({"GET", pattern, std::move(handler), server::AuthScope::kPublic,
                              server::RateClass::kUnlimited}).ok());
    };
    add("/.well-known/openid-configuration", [this](const server::Request&, std::shared_ptr<server::Exchange> ex) {
      (void)ex->respond(200, server::kJsonContentType, json{{"issuer", issuer()}, {"jwks_uri", issuer() + "/keys"}}.dump());
    });
    const std::string jwks = testing::jwks_of(key);
    add("/keys", [jwks](const server::Request&, std::shared_ptr<server::Exchange> ex) {
      (void)ex->respond(200, server::kJsonContentType, jwks);
    });
    server::HttpServerOptions o;
    o.host = "127.0.0.1";
    server_ = std::make_unique<server::HttpServer>(o, std::move(router));
    EXPECT_TRUE(server_->start().ok());
  }
  std::string issuer() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  std::unique_ptr<server::HttpServer> server_;
};

TEST(OidcServeTest, TokensOfTheTrustedIssuerAreAcceptedAndOthersRefused) {
  const auto& key = testing::shared_rsa_key();
  TestIdentityProvider idp(key);
  const uint16_t port = testing::free_port();
  testing::ChildProcess server({testing::inferd_binary(), "serve", "--port", std::to_string(port), "--threads", "1",
                                "--no-access-log", "--oidc-issuer", idp.issuer(), "--oidc-audience", "inferd",
                                "--oidc-scope-prefix", "inferd:", "--oidc-service", "vista-web=vista"},
                               (testing::temp_dir() / "serve-oidc.log").string());
  ASSERT_TRUE(server.started());
  testing::HttpAnswer a;
  for (int i = 0; i < 600 && a.status != 200; ++i) {
    a = testing::http_request(port, "GET", "/health");
    if (a.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(a.status, 200) << server.log();

  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  const json claims = {{"iss", idp.issuer()}, {"aud", "inferd"}, {"sub", "web-1"}, {"azp", "vista-web"},
                       {"iat", now}, {"exp", now + 300}, {"scope", "openid inferd:inference"}};
  const auto bearer = [](const std::string& token) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
  };
  const std::string token = key.sign(claims);
  a = testing::http_request(port, "GET", "/v1/models", nullptr, bearer(token));
  EXPECT_EQ(a.status, 200) << a.text << server.log();
  const json chat = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"max_tokens", 2}};
  EXPECT_EQ(testing::http_request(port, "POST", "/v1/chat/completions", chat, bearer(token)).status, 200);

  // The payload changed after signing: the signature no longer matches.
  json forged = claims;
  forged["azp"] = "admin-console";
  const std::string other = key.sign(forged);
  const std::string tampered = token.substr(0, token.find('.')) + other.substr(other.find('.'), other.rfind('.') - other.find('.')) +
                               token.substr(token.rfind('.'));
  json expired = claims, foreign = claims;
  expired["exp"] = now - 600;
  foreign["aud"] = "someone-else";
  for (const std::string& bad : {tampered, key.sign(expired), key.sign(foreign)}) {
    a = testing::http_request(port, "GET", "/v1/models", nullptr, bearer(bad));
    EXPECT_EQ(a.status, 401) << a.text;
    EXPECT_EQ(a.body["error"]["code"], "invalid_token") << a.text;
  }
  // Valid, but without the sessions scope.
  a = testing::http_request(port, "GET", "/v1/sessions", nullptr, bearer(token));
  EXPECT_EQ(a.status, 403) << a.text;

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
}

}  // namespace
}  // namespace inferd
