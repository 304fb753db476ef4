#include "server/auth/token_claims.h"

#include <gtest/gtest.h>

namespace inferd::server::auth {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'800'000'000;

OidcOptions options() {
  OidcOptions o;
  o.issuer = "https://login.example.com/realms/inferd";
  o.audiences = {"inferd", "inferd-staging"};
  return o;
}

json claims() {
  return {{"iss", "https://login.example.com/realms/inferd"},
          {"aud", "inferd"},
          {"sub", "svc-vista"},
          {"azp", "vista"},
          {"exp", kNow + 300},
          {"iat", kNow - 10},
          {"scope", "openid inference sessions"}};
}

std::string refusal(const json& payload, const OidcOptions& o = options(), int64_t now = kNow) {
  auto id = identity_from_claims(payload, o, now);
  if (id.ok()) return "accepted";
  EXPECT_EQ(id.status().code(), StatusCode::kInvalidArgument);
  return id.status().message();
}

TEST(TokenClaimsTest, MapsAValidTokenToAnIdentity) {
  auto id = identity_from_claims(claims(), options(), kNow);
  ASSERT_TRUE(id.ok()) << id.status().to_string();
  EXPECT_EQ(id->service, "vista");
  EXPECT_EQ(id->scopes, (std::vector<std::string>{"inference", "sessions"}));
  EXPECT_EQ(id->subject, "svc-vista");
  EXPECT_EQ(id->key_id.substr(0, 4), "jwt:");
  EXPECT_EQ(id->key_id.size(), 4 + 8 + 1 + 9u);
  EXPECT_EQ(id->key_id.substr(13), "svc-vista");
}

TEST(TokenClaimsTest, ChecksIssuerAndAudience) {
  json c = claims();
  c["iss"] = "https://login.example.com/realms/other";
  EXPECT_NE(refusal(c).find("issuer"), std::string::npos);
  c.erase("iss");
  EXPECT_NE(refusal(c).find("iss"), std::string::npos);

  c = claims();
  c["aud"] = "someone-else";
  EXPECT_NE(refusal(c).find("audience"), std::string::npos);
  c["aud"] = json::array({"a", "b"});
  EXPECT_NE(refusal(c).find("audience"), std::string::npos);
  c["aud"] = json::array({"a", "inferd-staging"});
  EXPECT_EQ(refusal(c), "accepted");
  c["aud"] = 5;
  EXPECT_NE(refusal(c).find("aud"), std::string::npos);
  c.erase("aud");
  EXPECT_NE(refusal(c).find("aud"), std::string::npos);
}

TEST(TokenClaimsTest, ChecksTimesWithLeeway) {
  json c = claims();
  c["exp"] = kNow - 61;
  EXPECT_NE(refusal(c).find("expired"), std::string::npos);
  c["exp"] = kNow - 59;  // within the 60 s leeway
  EXPECT_EQ(refusal(c), "accepted");
  c["exp"] = "tomorrow";
  EXPECT_NE(refusal(c).find("exp"), std::string::npos);
  c.erase("exp");
  EXPECT_NE(refusal(c).find("exp"), std::string::npos);

  c = claims();
  c["nbf"] = kNow + 61;
  EXPECT_NE(refusal(c).find("not valid before"), std::string::npos);
  c["nbf"] = kNow + 59;
  EXPECT_EQ(refusal(c), "accepted");
  c["nbf"] = 1.8e300;
  EXPECT_NE(refusal(c).find("not valid before"), std::string::npos);

  c = claims();
  c["iat"] = kNow + 600;
  EXPECT_NE(refusal(c).find("future"), std::string::npos);

  OidcOptions strict = options();
  strict.leeway_s = 0;
  c = claims();
  c["exp"] = kNow;
  EXPECT_NE(refusal(c, strict).find("expired"), std::string::npos);
  c["exp"] = kNow + 0.5;
  EXPECT_EQ(refusal(c, strict), "accepted");
}

TEST(TokenClaimsTest, ServiceComesFromTheClaimThroughTheTable) {
  OidcOptions o = options();
  o.service_claim = "client_id";
  json c = claims();
  EXPECT_NE(refusal(c, o).find("no service"), std::string::npos);
  c["client_id"] = "whisper-prod";
  EXPECT_EQ(identity_from_claims(c, o, kNow)->service, "whisper-prod");

  o.services = {{"whisper-prod", "whisp"}, {"vista-app", "vista"}};
  EXPECT_EQ(identity_from_claims(c, o, kNow)->service, "whisp");
  c["client_id"] = "unknown-client";
  EXPECT_NE(refusal(c, o).find("no configured service"), std::string::npos);
  c["client_id"] = "";
  EXPECT_NE(refusal(c, o).find("no service"), std::string::npos);
  c["client_id"] = json::array({"whisper-prod"});
  EXPECT_NE(refusal(c, o).find("no service"), std::string::npos);
  c["client_id"] = std::string(200, 'x');
  o.services.clear();
  EXPECT_NE(refusal(c, o).find("bytes"), std::string::npos);
}

TEST(TokenClaimsTest, ScopesHonourThePrefixAndIgnoreUnknownOnes) {
  OidcOptions o = options();
  o.scope_prefix = "inferd:";
  json c = claims();
  c["scope"] = "openid inferd:inference inference inferd:admin inferd:billing inferd:inference  ";
  auto id = identity_from_claims(c, o, kNow);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->scopes, (std::vector<std::string>{"admin", "inference"}));

  o.scope_claim = "scp";
  c["scp"] = json::array({"inferd:sessions", "sessions", "inferd:admin"});
  id = identity_from_claims(c, o, kNow);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->scopes, (std::vector<std::string>{"admin", "sessions"}));

  c["scp"] = json::array({"inferd:sessions", 3});
  EXPECT_NE(refusal(c, o).find("scp"), std::string::npos);
  c["scp"] = 3;
  EXPECT_NE(refusal(c, o).find("scp"), std::string::npos);
  c.erase("scp");
  id = identity_from_claims(c, o, kNow);
  ASSERT_TRUE(id.ok());  // valid without scopes: the caller answers 403 per route
  EXPECT_TRUE(id->scopes.empty());
}

TEST(TokenClaimsTest, KeyIdIsSafeToLog) {
  json c = claims();
  c["sub"] = "evil\nname \"quoted\"" + std::string(100, 'z');
  auto id = identity_from_claims(c, options(), kNow);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->key_id.find_first_of("\n \""), std::string::npos);
  EXPECT_LE(id->key_id.size(), 4 + 8 + 1 + 64u);
  c.erase("sub");
  id = identity_from_claims(c, options(), kNow);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->subject, "");
  c["sub"] = 42;
  EXPECT_NE(refusal(c).find("sub"), std::string::npos);
}

}  // namespace
}  // namespace inferd::server::auth
