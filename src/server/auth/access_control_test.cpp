#include "server/auth/access_control.h"

#include <gtest/gtest.h>

#include "server/auth/api_key.h"
#include "server/http/request.h"
#include "testing/jwt_test_signer.h"

namespace inferd::server::auth {
namespace {

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<ApiKeyStore>(*sessions::open_kv_store("memory"), [this] { return now_; });
    inference_ = *store_->create({.service = "vista", .prefix = "vista_"});
    admin_ = *store_->create({.service = "ops", .prefix = "lbrx_", .scopes = ScopeSet::of({AuthScope::kAdmin})});
    config_key_ = *generate_api_key("data_");
    ApiKeyRecord from_config{.id = config_key_.id, .prefix = "data_", .hash = hash_api_key(config_key_.key),
                             .service = "data", .scopes = ScopeSet::of({AuthScope::kSessions}), .from_config = true};
    auto access = AccessControl::create(
        {.config_keys = {from_config}, .key_store = store_, .now_s = [this] { return now_; }});
    ASSERT_TRUE(access.ok()) << access.status().to_string();
    access_ = *access;
  }

  std::variant<Caller, ApiError> call(AuthScope scope, std::vector<std::pair<std::string, std::string>> headers,
                                      std::string path = "/v1/chat/completions") const {
    Request r;
    r.method = "POST";
    r.path = std::move(path);
    r.auth_scope = scope;
    for (auto& [k, v] : headers) r.headers.add(k, v);
    return access_->authenticate(r);
  }
  static const ApiError& refused(const std::variant<Caller, ApiError>& v) { return std::get<ApiError>(v); }

  int64_t now_ = 1'800'000'000;
  std::shared_ptr<ApiKeyStore> store_;
  IssuedKey inference_, admin_;
  NewApiKey config_key_;
  std::shared_ptr<AccessControl> access_;
};

TEST_F(AccessControlTest, ValidKeysNameTheirServiceAndKey) {
  const auto who = call(AuthScope::kInference, {{"Authorization", "Bearer " + inference_.key}});
  ASSERT_TRUE(std::holds_alternative<Caller>(who)) << refused(who).message;
  EXPECT_EQ(std::get<Caller>(who).service, "vista");
  EXPECT_EQ(std::get<Caller>(who).key_id, inference_.record.id);
  // Scheme case-insensitive, X-API-Key accepted, configured keys too.
  EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kInference, {{"authorization", "bearer  " + inference_.key}})));
  EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kInference, {{"X-API-Key", inference_.key}})));
  const auto data = call(AuthScope::kSessions, {{"Authorization", "Bearer " + config_key_.key}});
  ASSERT_TRUE(std::holds_alternative<Caller>(data));
  EXPECT_EQ(std::get<Caller>(data).service, "data");
  // Admin grants every scope.
  EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kInference, {{"Authorization", "Bearer " + admin_.key}})));
}

TEST_F(AccessControlTest, MissingAndWrongKeysAre401WithoutEchoingTheKey) {
  const auto missing = call(AuthScope::kInference, {});
  EXPECT_EQ(refused(missing).status, 401);
  EXPECT_EQ(refused(missing).code, "missing_api_key");
  ASSERT_FALSE(refused(missing).headers.empty());
  EXPECT_EQ(refused(missing).headers[0].first, "WWW-Authenticate");
  std::string wrong = inference_.key;
  wrong.back() = wrong.back() == 'x' ? 'y' : 'x';
  for (const std::string& bad : {wrong, std::string("sk-123"), std::string("vista_") + inference_.key.substr(6, 12) + "_short",
                                 "whisp_" + inference_.key.substr(6)}) {
    const auto r = call(AuthScope::kInference, {{"Authorization", "Bearer " + bad}});
    ASSERT_EQ(refused(r).status, 401) << bad;
    EXPECT_EQ(refused(r).code, "invalid_api_key");
    EXPECT_EQ(refused(r).message.find(bad), std::string::npos);
  }
  EXPECT_EQ(refused(call(AuthScope::kInference, {{"Authorization", "Basic " + inference_.key}})).status, 401);
}

TEST_F(AccessControlTest, ScopesAreEnforcedAndPublicPathsPass) {
  const auto r = call(AuthScope::kAdmin, {{"Authorization", "Bearer " + inference_.key}}, "/v1/models/x/load");
  EXPECT_EQ(refused(r).status, 403);
  EXPECT_EQ(refused(r).code, "insufficient_scope");
  EXPECT_NE(refused(r).message.find("'admin'"), std::string::npos);
  EXPECT_EQ(refused(call(AuthScope::kInference, {{"Authorization", "Bearer " + config_key_.key}})).status, 403);
  const auto health = call(AuthScope::kPublic, {}, "/health");
  ASSERT_TRUE(std::holds_alternative<Caller>(health));
  EXPECT_TRUE(std::get<Caller>(health).service.empty());
  // Public routes outside public_paths still need a key (any scope).
  EXPECT_EQ(refused(call(AuthScope::kPublic, {}, "/metrics")).status, 401);
  EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kPublic, {{"X-API-Key", config_key_.key}}, "/metrics")));
}

TEST_F(AccessControlTest, RevokedExpiredAndRotatedKeys) {
  ASSERT_TRUE(store_->revoke(admin_.record.id).ok());
  auto r = call(AuthScope::kAdmin, {{"Authorization", "Bearer " + admin_.key}});
  EXPECT_EQ(refused(r).status, 401);
  EXPECT_NE(refused(r).message.find("revoked"), std::string::npos);

  auto fresh = store_->rotate(inference_.record.id, 60);
  ASSERT_TRUE(fresh.ok());
  for (const std::string* key : {&inference_.key, &fresh->key})
    EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kInference, {{"Authorization", "Bearer " + *key}})));
  now_ += 60;
  r = call(AuthScope::kInference, {{"Authorization", "Bearer " + inference_.key}});
  EXPECT_EQ(refused(r).status, 401);
  EXPECT_NE(refused(r).message.find("expired"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<Caller>(call(AuthScope::kInference, {{"Authorization", "Bearer " + fresh->key}})));
}

TEST(AccessControlLimitsTest, KeyAndServiceLimitsAdmitThenRefuseWith429) {
  auto store = std::make_shared<ApiKeyStore>(*sessions::open_kv_store("memory"));
  const IssuedKey limited = *store->create({.service = "voice", .limits = {.requests_per_minute = 2}});
  const IssuedKey tokens = *store->create({.service = "data", .limits = {.tokens_per_minute = 100}});
  const IssuedKey other = *store->create({.service = "voice"});
  auto limiter = ratelimit::RateLimiter::create({});
  ASSERT_TRUE(limiter.ok());
  auto access = *AccessControl::create({.key_store = store,
                                        .service_limits = {{"voice", {.requests_per_minute = 3}}},
                                        .limiter = std::move(limiter).value()});
  const auto call = [&](const IssuedKey& k, RateClass cls = RateClass::kInference) {
    Request r;
    r.method = "POST";
    r.path = "/v1/chat/completions";
    r.auth_scope = AuthScope::kInference;
    r.rate_class = cls;
    r.headers.add("Authorization", "Bearer " + k.key);
    return access->authenticate(r);
  };
  for (int i = 0; i < 2; ++i) {
    const auto ok = call(limited);
    ASSERT_TRUE(std::holds_alternative<Caller>(ok)) << std::get<ApiError>(ok).message;
    EXPECT_FALSE(std::get<Caller>(ok).response_headers.empty());
  }
  auto refused = call(limited);
  ASSERT_TRUE(std::holds_alternative<ApiError>(refused));
  EXPECT_EQ(std::get<ApiError>(refused).status, 429);
  EXPECT_TRUE(std::get<ApiError>(refused).retry_after_s);
  // The service's limit (3) covers its other keys too; unlimited routes are never counted.
  EXPECT_TRUE(std::holds_alternative<Caller>(call(other)));
  EXPECT_EQ(std::get<ApiError>(call(other)).status, 429);
  EXPECT_TRUE(std::holds_alternative<Caller>(call(other, RateClass::kUnlimited)));

  // Tokens are charged when the request ends; a spent budget refuses the next request.
  const auto first = call(tokens);
  ASSERT_TRUE(std::holds_alternative<Caller>(first));
  Request done;
  done.caller = std::get<Caller>(first);
  ExchangeRecord record(done);
  record.annotations = {{"prompt_tokens", "80"}, {"completion_tokens", "40"}};
  access->on_exchange_end(record);
  refused = call(tokens);
  ASSERT_TRUE(std::holds_alternative<ApiError>(refused));
  EXPECT_NE(std::get<ApiError>(refused).message.find("tokens"), std::string::npos) << std::get<ApiError>(refused).message;
}

TEST(AccessControlIdentityTest, BearerJwtsAndClientCertificatesNameTheirService) {
  const std::string issuer = "https://idp.example.com";
  const auto& key = inferd::testing::shared_rsa_key();
  OidcOptions o;
  o.issuer = issuer;
  o.jwks_uri = issuer + "/keys";
  o.audiences = {"inferd"};
  o.services = {{"vista-web", "vista"}};
  const int64_t now = 1'800'000'000;
  auto oidc = OidcVerifier::create(
      o, [&](const std::string&) -> Result<std::string> { return inferd::testing::jwks_of(key); },
      [now] { return now; });
  ASSERT_TRUE(oidc.ok()) << oidc.status().to_string();
  auto access = *AccessControl::create(
      {.oidc = std::move(oidc).value(),
       .client_certs = {{"CN=voice-backend,O=Example", "voice", ScopeSet::of({AuthScope::kInference})}}});
  const auto call = [&](AuthScope scope, std::vector<std::pair<std::string, std::string>> headers,
                        std::string subject = "") {
    Request r;
    r.method = "POST";
    r.path = "/v1/chat/completions";
    r.auth_scope = scope;
    r.client_cert_subject = std::move(subject);
    for (auto& [k, v] : headers) r.headers.add(k, v);
    return access->authenticate(r);
  };
  const nlohmann::json claims = {{"iss", issuer}, {"aud", "inferd"}, {"sub", "svc-7"}, {"azp", "vista-web"},
                                 {"exp", now + 300}, {"scope", "inference"}};
  const std::string token = key.sign(claims);
  auto who = call(AuthScope::kInference, {{"Authorization", "Bearer " + token}});
  ASSERT_TRUE(std::holds_alternative<Caller>(who)) << std::get<ApiError>(who).message;
  EXPECT_EQ(std::get<Caller>(who).service, "vista");
  EXPECT_TRUE(std::get<Caller>(who).key_id.starts_with("jwt:"));
  // The token's scopes hold: no sessions scope.
  EXPECT_EQ(std::get<ApiError>(call(AuthScope::kSessions, {{"Authorization", "Bearer " + token}})).status, 403);
  // A tampered token is refused.
  std::string tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  who = call(AuthScope::kInference, {{"Authorization", "Bearer " + tampered}});
  ASSERT_TRUE(std::holds_alternative<ApiError>(who));
  EXPECT_EQ(std::get<ApiError>(who).status, 401);
  EXPECT_EQ(std::get<ApiError>(who).code, "invalid_token");

  // A listed client certificate needs no key; an unlisted one does.
  who = call(AuthScope::kInference, {}, "CN=voice-backend,O=Example");
  ASSERT_TRUE(std::holds_alternative<Caller>(who));
  EXPECT_EQ(std::get<Caller>(who).service, "voice");
  EXPECT_EQ(std::get<Caller>(who).key_id, "cert:CN=voice-backend,O=Example");
  EXPECT_EQ(std::get<ApiError>(call(AuthScope::kSessions, {}, "CN=voice-backend,O=Example")).status, 403);
  EXPECT_EQ(std::get<ApiError>(call(AuthScope::kInference, {}, "CN=stranger")).status, 401);
  // Without an OIDC issuer, JWTs are refused.
  auto keys_only = *AccessControl::create({});
  Request r;
  r.path = "/v1/models";
  r.auth_scope = AuthScope::kInference;
  r.headers.add("Authorization", "Bearer " + token);
  EXPECT_EQ(std::get<ApiError>(keys_only->authenticate(r)).code, "invalid_token");
}

TEST_F(AccessControlTest, ConfiguredKeysAreChecked) {
  ApiKeyRecord k{.id = "abcdefghijkl", .prefix = "x_", .hash = "md5:00", .service = "s"};
  EXPECT_EQ(AccessControl::create({.config_keys = {k}}).status().field(), "api_keys[0].hash");
  k.hash = hash_api_key("x");
  EXPECT_EQ(AccessControl::create({.config_keys = {k, k}}).status().field(), "api_keys[1].id");
}

}  // namespace
}  // namespace inferd::server::auth
