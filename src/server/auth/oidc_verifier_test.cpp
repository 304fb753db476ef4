#include "server/auth/oidc_verifier.h"

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "server/auth/base64url.h"
#include "server/auth/jwt.h"
#include "testing/jwt_test_signer.h"

namespace inferd::server::auth {
namespace {

using nlohmann::json;
using testing::TestSigningKey;

constexpr const char* kIssuer = "https://idp.example.com/tenant";
constexpr const char* kDiscoveryUrl =
    "https://idp.example.com/tenant/.well-known/openid-configuration";
constexpr const char* kJwksUrl = "https://idp.example.com/tenant/keys";
constexpr int64_t kStart = 1'800'000'000;

const TestSigningKey& rsa_key() {
  return testing::shared_rsa_key();
}
const TestSigningKey& ec_key() {
  return testing::shared_p256_key();
}

// Documents served by URL, with a fetch count; a missing URL or `down` answers kIo.
struct FakeIdp {
  std::mutex mu;
  std::map<std::string, std::string> docs;
  std::atomic<int> num_jwks_fetches{0};
  std::atomic<bool> down{false};
  std::atomic<int64_t> now_s{kStart};

  FakeIdp() {
    docs[kDiscoveryUrl] = json{{"issuer", kIssuer}, {"jwks_uri", kJwksUrl}}.dump();
    docs[kJwksUrl] = testing::jwks_of(rsa_key(), ec_key());
  }
  JsonFetcher fetcher() {
    return [this](const std::string& url) -> Result<std::string> {
      if (url == kJwksUrl) ++num_jwks_fetches;
      std::lock_guard<std::mutex> lock(mu);
      if (down) return io_error("connection refused");
      const auto it = docs.find(url);
      if (it == docs.end()) return io_error("GET {}: HTTP status 404", url);
      return it->second;
    };
  }
  OidcVerifier::Clock clock() {
    return [this] { return now_s.load(); };
  }
  void set_jwks(std::string doc) {
    std::lock_guard<std::mutex> lock(mu);
    docs[kJwksUrl] = std::move(doc);
  }
};

OidcOptions options() {
  OidcOptions o;
  o.issuer = kIssuer;
  o.audiences = {"inferd"};
  return o;
}

json claims(int64_t now = kStart) {
  return {{"iss", kIssuer},   {"aud", "inferd"}, {"sub", "client-7"},   {"azp", "vista"},
          {"exp", now + 300}, {"iat", now},      {"scope", "inference"}};
}

class OidcVerifierTest : public ::testing::Test {
 protected:
  std::unique_ptr<OidcVerifier> make(OidcOptions o = options()) {
    auto v = OidcVerifier::create(std::move(o), idp_.fetcher(), idp_.clock());
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  std::string refusal(OidcVerifier& v, const std::string& token) {
    auto id = v.verify(token);
    return id.ok() ? "accepted" : id.status().message();
  }
  FakeIdp idp_;
};

TEST_F(OidcVerifierTest, AcceptsRs256AndEs256Tokens) {
  auto v = make();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->jwks_uri(), kJwksUrl);
  for (const TestSigningKey* key : {&rsa_key(), &ec_key()}) {
    auto id = v->verify(key->sign(claims()));
    ASSERT_TRUE(id.ok()) << key->alg() << ": " << id.status().to_string();
    EXPECT_EQ(id->service, "vista");
    EXPECT_EQ(id->scopes, std::vector<std::string>{"inference"});
    EXPECT_EQ(id->subject, "client-7");
  }
  EXPECT_EQ(idp_.num_jwks_fetches, 1);
}

TEST_F(OidcVerifierTest, RefusesTamperedTokens) {
  auto v = make();
  ASSERT_TRUE(v);
  for (const TestSigningKey* key : {&rsa_key(), &ec_key()}) {
    const std::string token = key->sign(claims());
    const size_t dot1 = token.find('.');
    const size_t dot2 = token.rfind('.');
    json forged = claims();
    forged["azp"] = "admin-service";
    const std::string new_payload =
        token.substr(0, dot1 + 1) + base64url_encode(forged.dump()) + token.substr(dot2);
    EXPECT_EQ(refusal(*v, new_payload), "token signature is invalid") << key->alg();
    std::string sig = base64url_decode(token.substr(dot2 + 1)).value();
    sig[sig.size() / 2] ^= 0x01;
    EXPECT_EQ(refusal(*v, token.substr(0, dot2 + 1) + base64url_encode(sig)),
              "token signature is invalid");
    EXPECT_NE(refusal(*v, token.substr(0, dot2 + 1) + base64url_encode(sig.substr(1))), "accepted");
    // A signature by another key with the same kid.
    const TestSigningKey impostor =
        key->alg() == "RS256" ? TestSigningKey::rsa(key->kid()) : TestSigningKey::p256(key->kid());
    EXPECT_EQ(refusal(*v, impostor.sign(claims())), "token signature is invalid");
  }
}

TEST_F(OidcVerifierTest, RefusesAlgorithmsOtherThanTheKeys) {
  auto v = make();
  ASSERT_TRUE(v);
  const json payload = claims();
  EXPECT_NE(
      refusal(*v, testing::assemble_jwt({{"alg", "none"}}, payload, "x")).find("not accepted"),
      std::string::npos);
  EXPECT_NE(refusal(*v, testing::assemble_jwt({{"alg", "none"}}, payload, "")).find("empty"),
            std::string::npos);
  // HS256 keyed with the public key's bytes (the classic algorithm confusion).
  const std::string input = base64url_encode(json{{"alg", "HS256"}, {"kid", "rsa-1"}}.dump()) +
                            "." + base64url_encode(payload.dump());
  for (const std::string& secret :
       {rsa_key().jwk().dump(), rsa_key().jwk()["n"].get<std::string>()}) {
    const std::string token =
        input + "." + base64url_encode(testing::hs256_signature(secret, input));
    EXPECT_NE(refusal(*v, token).find("\"HS256\" is not accepted"), std::string::npos);
  }
  for (const char* alg : {"RS384", "PS256", "ES384", "EdDSA", "rs256"}) {
    EXPECT_NE(refusal(*v, testing::assemble_jwt({{"alg", alg}, {"kid", "rsa-1"}}, payload, "sig"))
                  .find("not accepted"),
              std::string::npos)
        << alg;
  }
  // An RS256 header naming the EC key, and the reverse: the key's algorithm must match.
  EXPECT_NE(refusal(*v, rsa_key().sign(payload, true, {{"kid", "ec-1"}})).find("not an RS256 key"),
            std::string::npos);
  EXPECT_NE(refusal(*v, ec_key().sign(payload, true, {{"kid", "rsa-1"}})).find("not an ES256 key"),
            std::string::npos);
}

TEST_F(OidcVerifierTest, RefusesBadClaims) {
  auto v = make();
  ASSERT_TRUE(v);
  json c = claims();
  c["iss"] = "https://evil.example.com";
  EXPECT_NE(refusal(*v, rsa_key().sign(c)).find("issuer"), std::string::npos);
  c = claims();
  c["aud"] = "other-api";
  EXPECT_NE(refusal(*v, rsa_key().sign(c)).find("audience"), std::string::npos);
  EXPECT_NE(refusal(*v, rsa_key().sign(claims(kStart - 3600))).find("expired"), std::string::npos);
  c = claims();
  c["nbf"] = kStart + 3600;
  EXPECT_NE(refusal(*v, ec_key().sign(c)).find("not valid before"), std::string::npos);
  c = claims();
  c.erase("azp");
  EXPECT_NE(refusal(*v, ec_key().sign(c)).find("no service"), std::string::npos);
}

TEST_F(OidcVerifierTest, KidMayBeOmittedOnlyWhenOneKeyFits) {
  auto v = make();
  ASSERT_TRUE(v);
  EXPECT_EQ(refusal(*v, rsa_key().sign(claims(), /*with_kid=*/false)), "accepted");
  const TestSigningKey rsa2 = TestSigningKey::rsa("rsa-2");
  idp_.set_jwks(testing::jwks_of(rsa_key(), rsa2, ec_key()));
  idp_.now_s += 3600;  // past jwks_max_age_s: the next token refreshes the keys
  EXPECT_NE(refusal(*v, rsa_key().sign(claims(idp_.now_s), false)).find("no \"kid\""),
            std::string::npos);
  EXPECT_EQ(refusal(*v, rsa2.sign(claims(idp_.now_s))), "accepted");
}

TEST_F(OidcVerifierTest, RefusesMalformedOversizedAndRandomTokens) {
  auto v = make();
  ASSERT_TRUE(v);
  for (const char* bad :
       {"", "Bearer x", "a.b.c", "e30.e30.", "e30.e30.e30", "....", "\xff\xfe.\x01.\x02"})
    EXPECT_NE(refusal(*v, bad), "accepted") << bad;
  json big = claims();
  big["pad"] = std::string(kMaxJwtBytes, 'p');
  EXPECT_NE(refusal(*v, rsa_key().sign(big)).find("over the limit"), std::string::npos);

  std::mt19937 rng(11);
  const std::string valid = ec_key().sign(claims());
  for (int i = 0; i < 3000; ++i) {
    std::string s = valid;
    if (i % 3 == 0) {
      s.resize(rng() % 300);
      for (char& ch : s) ch = static_cast<char>(rng() & 0xFF);
    } else {
      for (int edits = 1 + rng() % 4; edits > 0; --edits)
        s[rng() % s.size()] = static_cast<char>(rng() & 0x7F);
    }
    if (s == valid) continue;
    auto id = v->verify(s);
    // A change that only touches bits base64url ignores cannot occur (strict decoding), so any
    // edit is refused.
    EXPECT_FALSE(id.ok()) << s;
  }
  EXPECT_LE(idp_.num_jwks_fetches,
            2);  // garbage with random kids fetches at most once per interval
}

TEST_F(OidcVerifierTest, UnknownKidRefetchesAtMostOncePerInterval) {
  auto v = make();
  ASSERT_TRUE(v);
  EXPECT_EQ(idp_.num_jwks_fetches, 1);
  idp_.now_s += 31;
  for (int i = 0; i < 50; ++i) {
    const TestSigningKey& key = i % 2 ? rsa_key() : ec_key();
    EXPECT_NE(
        refusal(*v, key.sign(claims(idp_.now_s), true, {{"kid", "random-" + std::to_string(i)}})),
        "accepted");
  }
  EXPECT_EQ(idp_.num_jwks_fetches, 2);
  idp_.now_s += 29;
  EXPECT_NE(refusal(*v, ec_key().sign(claims(idp_.now_s), true, {{"kid", "again"}})), "accepted");
  EXPECT_EQ(idp_.num_jwks_fetches, 2);
  idp_.now_s += 1;
  EXPECT_NE(refusal(*v, ec_key().sign(claims(idp_.now_s), true, {{"kid", "again"}})), "accepted");
  EXPECT_EQ(idp_.num_jwks_fetches, 3);
}

TEST_F(OidcVerifierTest, ConcurrentUnknownKidsShareOneFetch) {
  auto v = make();
  ASSERT_TRUE(v);
  idp_.now_s += 60;
  const std::string token = ec_key().sign(claims(idp_.now_s), true, {{"kid", "nope"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_FALSE(v->verify(token).ok());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(idp_.num_jwks_fetches, 2);
}

TEST_F(OidcVerifierTest, RotatedKeyIsFetchedAndOldKeysSurviveFailures) {
  auto v = make();
  ASSERT_TRUE(v);
  const TestSigningKey next = TestSigningKey::p256("ec-2");
  idp_.set_jwks(testing::jwks_of(next));
  idp_.now_s += 30;
  // The rotation drops ec-1 from the set: tokens of the new key pass, the old one's are refused.
  EXPECT_EQ(refusal(*v, next.sign(claims(idp_.now_s))), "accepted");
  EXPECT_NE(refusal(*v, ec_key().sign(claims(idp_.now_s))).find("not an ES256 key"),
            std::string::npos);

  idp_.set_jwks(testing::jwks_of(next, rsa_key()));
  idp_.down = true;
  idp_.now_s += 4000;  // stale: the refresh fails, the cached keys still verify
  const int fetches = idp_.num_jwks_fetches;
  EXPECT_EQ(refusal(*v, next.sign(claims(idp_.now_s))), "accepted");
  EXPECT_EQ(idp_.num_jwks_fetches, fetches + 1);
  idp_.down = false;
  idp_.set_jwks("{\"keys\": \"garbage\"}");
  idp_.now_s += 30;
  EXPECT_EQ(refusal(*v, next.sign(claims(idp_.now_s))), "accepted");
  EXPECT_EQ(idp_.num_jwks_fetches, fetches + 2);
}

TEST_F(OidcVerifierTest, CreateValidatesOptionsAndDiscovery) {
  const auto create_error = [&](OidcOptions o) {
    auto v = OidcVerifier::create(std::move(o), idp_.fetcher(), idp_.clock());
    return v.ok() ? std::string("created") : v.status().message();
  };
  OidcOptions o = options();
  o.issuer = "http://idp.example.com";
  EXPECT_NE(create_error(o).find("must use https"), std::string::npos);
  o.issuer = "https://user:pw@idp.example.com";
  EXPECT_NE(create_error(o).find("user info"), std::string::npos);
  o.issuer = "ftp://idp.example.com";
  EXPECT_NE(create_error(o).find("not an http(s) URL"), std::string::npos);
  o = options();
  o.audiences.clear();
  EXPECT_NE(create_error(o).find("audience"), std::string::npos);
  o = options();
  o.http_timeout_ms = 0;
  EXPECT_NE(create_error(o).find("http_timeout_ms"), std::string::npos);

  idp_.docs[kDiscoveryUrl] =
      json{{"issuer", "https://idp.example.com/other"}, {"jwks_uri", kJwksUrl}}.dump();
  EXPECT_NE(create_error(options()).find("another issuer"), std::string::npos);
  idp_.docs[kDiscoveryUrl] = json{{"issuer", kIssuer}}.dump();
  EXPECT_NE(create_error(options()).find("jwks_uri"), std::string::npos);
  idp_.docs[kDiscoveryUrl] =
      json{{"issuer", kIssuer}, {"jwks_uri", "http://idp.example.com/keys"}}.dump();
  EXPECT_NE(create_error(options()).find("must use https"), std::string::npos);
  idp_.docs[kDiscoveryUrl] = "<html>";
  EXPECT_NE(create_error(options()).find("not a JSON object"), std::string::npos);

  // A configured jwks_uri skips discovery.
  o = options();
  o.jwks_uri = kJwksUrl;
  EXPECT_EQ(create_error(o), "created");
  o.issuer = "https://idp.example.com/tenant/";  // trailing '/' on the discovery URL is dropped
  o.jwks_uri.clear();
  idp_.docs[kDiscoveryUrl] = json{{"issuer", o.issuer}, {"jwks_uri", kJwksUrl}}.dump();
  EXPECT_EQ(create_error(o), "created");
  idp_.down = true;
  EXPECT_NE(create_error(options()).find("connection refused"), std::string::npos);
}

TEST(CheckFetchUrlTest, HttpOnlyOnLoopback) {
  for (const char* ok : {"https://idp.example.com", "https://idp.example.com:8443/x",
                         "http://127.0.0.1:8080/realm", "http://localhost/x", "http://[::1]:9000/"})
    EXPECT_TRUE(check_fetch_url(ok, "issuer").ok()) << ok;
  for (const char* bad :
       {"http://10.0.0.1/", "http://127.0.0.1.evil.com/", "http://localhost.evil.com",
        "http://evil.com/127.0.0.1", "https://", "http://[::1", "https://a b", "file:///etc/passwd",
        "http://x@127.0.0.1/"})
    EXPECT_FALSE(check_fetch_url(bad, "issuer").ok()) << bad;
}

}  // namespace
}  // namespace inferd::server::auth
