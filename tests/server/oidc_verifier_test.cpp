// OIDC bearer tokens verified against a discovery document and a JWKS served by the project's own
// HttpServer on 127.0.0.1, fetched with the real libcurl fetcher: discovery, key rotation, the
// refetch bound on unknown kids, and cached keys surviving an identity provider that goes down.
#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/auth/oidc_verifier.h"
#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/http_test_support.h"
#include "testing/jwt_test_signer.h"

namespace inferd::server::testing {
namespace {

using auth::kMaxOidcDocumentBytes;
using auth::OidcOptions;
using auth::OidcVerifier;
using inferd::testing::TestSigningKey;
using nlohmann::json;

constexpr int64_t kStart = 1'800'000'000;

// The identity provider's documents, changed by the tests while the server runs.
struct IdpState {
  std::mutex mu;
  std::string issuer;
  std::string jwks;
  int jwks_status = 200;
  std::atomic<int> num_discovery_fetches{0};
  std::atomic<int> num_jwks_fetches{0};
  std::vector<std::shared_ptr<Exchange>> held;  // requests left unanswered on purpose

  void set_jwks(std::string doc, int status = 200) {
    std::lock_guard<std::mutex> lock(mu);
    jwks = std::move(doc);
    jwks_status = status;
  }
};

class OidcOverHttpTest : public HttpServerFixture {
 protected:
  void SetUp() override {
    Router router;
    Status st = router.add(
        {"GET", "/.well-known/openid-configuration",
         [this](const Request&, std::shared_ptr<Exchange> ex) {
           ++idp_.num_discovery_fetches;
           std::lock_guard<std::mutex> lock(idp_.mu);
           const json doc = {{"issuer", idp_.issuer}, {"jwks_uri", idp_.issuer + "/keys"}};
           (void)ex->respond(200, kJsonContentType, doc.dump());
         },
         AuthScope::kPublic, RateClass::kUnlimited});
    ASSERT_TRUE(st.ok()) << st.to_string();
    st = router.add({"GET", "/keys",
                     [this](const Request&, std::shared_ptr<Exchange> ex) {
                       ++idp_.num_jwks_fetches;
                       std::lock_guard<std::mutex> lock(idp_.mu);
                       (void)ex->respond(idp_.jwks_status, kJsonContentType, idp_.jwks);
                     },
                     AuthScope::kPublic, RateClass::kUnlimited});
    ASSERT_TRUE(st.ok()) << st.to_string();
    st = router.add({"GET", "/hang/.well-known/openid-configuration",
                     [this](const Request&, std::shared_ptr<Exchange> ex) {
                       std::lock_guard<std::mutex> lock(idp_.mu);
                       idp_.held.push_back(std::move(ex));
                     },
                     AuthScope::kPublic, RateClass::kUnlimited});
    ASSERT_TRUE(st.ok()) << st.to_string();
    st = router.add({"GET", "/chunked/.well-known/openid-configuration",
                     [](const Request&, std::shared_ptr<Exchange> ex) {
                       // Chunked transfer: no Content-Length announces the size.
                       (void)ex->start_stream(200, {{"Content-Type", "application/json"}});
                       for (size_t sent = 0; sent <= kMaxOidcDocumentBytes; sent += 64 << 10)
                         (void)ex->send(std::string(64 << 10, ' '));
                       (void)ex->finish();
                     },
                     AuthScope::kPublic, RateClass::kUnlimited});
    ASSERT_TRUE(st.ok()) << st.to_string();
    idp_.set_jwks(inferd::testing::jwks_of(rsa_, ec_));
    start_server(std::move(router));
    idp_.issuer = "http://127.0.0.1:" + std::to_string(port_);
  }

  OidcOptions options() const {
    OidcOptions o;
    o.issuer = idp_.issuer;
    o.audiences = {"inferd"};
    o.http_timeout_ms = 2000;
    return o;
  }
  Result<std::unique_ptr<OidcVerifier>> create(OidcOptions o) {
    return OidcVerifier::create(std::move(o), /*fetch=*/{}, [this] { return now_s_.load(); });
  }
  json claims() const {
    return {{"iss", idp_.issuer}, {"aud", "inferd"},     {"sub", "svc"},
            {"azp", "vista"},     {"exp", now_s_ + 300}, {"scope", "inference sessions"}};
  }

  const TestSigningKey rsa_ = TestSigningKey::rsa("rsa-1");
  const TestSigningKey ec_ = TestSigningKey::p256("ec-1");
  IdpState idp_;
  std::atomic<int64_t> now_s_{kStart};
};

TEST_F(OidcOverHttpTest, DiscoversTheJwksAndVerifiesTokens) {
  auto v = create(options());
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ((*v)->jwks_uri(), idp_.issuer + "/keys");
  for (const TestSigningKey* key : {&rsa_, &ec_}) {
    auto id = (*v)->verify(key->sign(claims()));
    ASSERT_TRUE(id.ok()) << id.status().to_string();
    EXPECT_EQ(id->service, "vista");
    EXPECT_EQ(id->scopes, (std::vector<std::string>{"inference", "sessions"}));
    std::string tampered = key->sign(claims());
    tampered[tampered.find('.') + 5] ^= 0x01;
    EXPECT_FALSE((*v)->verify(tampered).ok());
  }
  EXPECT_EQ(idp_.num_discovery_fetches, 1);
  EXPECT_EQ(idp_.num_jwks_fetches, 1);
}

TEST_F(OidcOverHttpTest, RotatedKeyIsFetchedOnceAndRandomKidsAreBounded) {
  auto v = create(options());
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  const TestSigningKey next = TestSigningKey::rsa("rsa-2");
  idp_.set_jwks(inferd::testing::jwks_of(rsa_, ec_, next));
  now_s_ += 30;
  auto id = (*v)->verify(next.sign(claims()));
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(idp_.num_jwks_fetches, 2);

  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(
        (*v)->verify(ec_.sign(claims(), true, {{"kid", "made-up-" + std::to_string(i)}})).ok());
  EXPECT_EQ(idp_.num_jwks_fetches, 2);
  now_s_ += 30;
  EXPECT_FALSE((*v)->verify(ec_.sign(claims(), true, {{"kid", "made-up"}})).ok());
  EXPECT_EQ(idp_.num_jwks_fetches, 3);
  EXPECT_TRUE((*v)->verify(next.sign(claims())).ok());
  EXPECT_EQ(idp_.num_discovery_fetches, 1);
}

TEST_F(OidcOverHttpTest, CachedKeysKeepWorkingWhenTheIdentityProviderFails) {
  auto v = create(options());
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  idp_.set_jwks("{\"error\":\"maintenance\"}", 503);
  now_s_ += 4000;  // past jwks_max_age_s: the refresh answers 503
  EXPECT_TRUE((*v)->verify(rsa_.sign(claims())).ok());
  EXPECT_EQ(idp_.num_jwks_fetches, 2);

  server_->stop();
  now_s_ += 60;
  EXPECT_TRUE((*v)->verify(ec_.sign(claims())).ok());  // refresh refused: connection closed
  auto unknown = (*v)->verify(TestSigningKey::p256("ec-9").sign(claims()));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("ec-9"), std::string::npos);
  EXPECT_EQ(idp_.num_jwks_fetches, 2);
}

TEST_F(OidcOverHttpTest, CreateFailsOnBadDocuments) {
  idp_.set_jwks("{\"keys\":[]}");
  auto v = create(options());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("no RS256 or ES256"), std::string::npos)
      << v.status().message();

  idp_.set_jwks(std::string(kMaxOidcDocumentBytes + 1, ' '));
  v = create(options());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("over"), std::string::npos) << v.status().message();

  OidcOptions o = options();
  o.issuer += "/missing";
  v = create(o);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("404"), std::string::npos) << v.status().message();
}

TEST_F(OidcOverHttpTest, FetchesAreBoundedInTimeAndSize) {
  OidcOptions o = options();
  o.issuer += "/hang";
  o.http_timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  auto v = create(o);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("timed out"), std::string::npos) << v.status().message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 2000ms);
  {
    std::lock_guard<std::mutex> lock(idp_.mu);
    EXPECT_EQ(idp_.held.size(), 1u);
    idp_.held.clear();
  }

  o = options();
  o.issuer += "/chunked";
  v = create(o);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("body over"), std::string::npos) << v.status().message();
}

}  // namespace
}  // namespace inferd::server::testing
