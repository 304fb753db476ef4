#include "server/auth/jwt.h"

#include <random>

#include <gtest/gtest.h>

#include "server/auth/base64url.h"
#include "testing/jwt_test_signer.h"

namespace inferd::server::auth {
namespace {

using nlohmann::json;
using testing::assemble_jwt;

TEST(JwtTest, ParsesHeaderPayloadAndSignature) {
  const std::string token =
      assemble_jwt({{"alg", "RS256"}, {"kid", "k1"}}, {{"sub", "alice"}}, "sig-bytes");
  auto jwt = parse_jwt(token);
  ASSERT_TRUE(jwt.ok()) << jwt.status().to_string();
  EXPECT_EQ(jwt->alg, "RS256");
  EXPECT_EQ(jwt->kid, "k1");
  EXPECT_EQ(jwt->payload["sub"], "alice");
  EXPECT_EQ(jwt->signature, "sig-bytes");
  EXPECT_EQ(jwt->signing_input, token.substr(0, token.rfind('.')));
}

TEST(JwtTest, KidIsOptional) {
  auto jwt = parse_jwt(assemble_jwt({{"alg", "ES256"}}, json::object(), "s"));
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->kid, "");
}

TEST(JwtTest, RefusesMalformedStructure) {
  const std::string h = base64url_encode(R"({"alg":"RS256"})");
  const std::string p = base64url_encode(R"({"sub":"a"})");
  const std::string s = base64url_encode("sig");
  const std::vector<std::string> bad = {
      "",
      h,
      h + "." + p,
      h + "." + p + ".",                // no signature (alg none style)
      h + "." + p + "." + s + "." + s,  // JWE-like five parts
      "." + p + "." + s,
      h + ".." + s,
      h + "=." + p + "." + s,  // padding
      h + "." + p + "." + s + "=",
      "e3t9." + p + "." + s,                          // "{{}" is not JSON
      base64url_encode("[1,2]") + "." + p + "." + s,  // header not an object
      h + "." + base64url_encode("\"str\"") + "." + s,
      h + "." + base64url_encode("{\"a\":") + "." + s,
      base64url_encode(R"({"kid":"k"})") + "." + p + "." + s,  // no alg
      base64url_encode(R"({"alg":5})") + "." + p + "." + s,    // alg not a string
      base64url_encode(R"({"alg":"RS256","kid":7})") + "." + p + "." + s,
      base64url_encode(R"({"alg":"RS256","crit":["exp"]})") + "." + p + "." + s,
      h + "." + p + ".c2l+",  // standard alphabet
      h + " ." + p + "." + s,
  };
  for (const auto& token : bad) {
    auto jwt = parse_jwt(token);
    ASSERT_FALSE(jwt.ok()) << token;
    EXPECT_EQ(jwt.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(JwtTest, LooksLikeJwtTellsTokensFromApiKeys) {
  EXPECT_TRUE(looks_like_jwt(assemble_jwt({{"alg", "RS256"}}, {{"sub", "a"}}, "sig")));
  EXPECT_TRUE(looks_like_jwt("a.b.c"));
  for (const char* other : {"", "vista_4f9a0c1e2b", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.",
                            "a.b.c=", "a b.c.d", "a.b/c.d"})
    EXPECT_FALSE(looks_like_jwt(other)) << other;
}

TEST(JwtTest, RefusesOversizedTokens) {
  const std::string big(kMaxJwtBytes, 'A');
  const std::string token = assemble_jwt({{"alg", "RS256"}}, {{"pad", big}}, "s");
  auto jwt = parse_jwt(token);
  ASSERT_FALSE(jwt.ok());
  EXPECT_NE(jwt.status().message().find("over the limit"), std::string::npos);
}

TEST(JwtTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"";
  const std::string valid =
      assemble_jwt({{"alg", "RS256"}, {"kid", "k"}}, {{"sub", "a"}}, "signature");
  int num_parsed = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      const int len = rng() % 200;
      for (int j = 0; j < len; ++j)
        s += i % 4 == 0 ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() & 0xFF);
    } else {
      s = valid;  // a valid token with a few bytes changed, inserted or removed
      for (int edits = 1 + rng() % 3; edits > 0; --edits) {
        const size_t pos = rng() % s.size();
        switch (rng() % 3) {
          case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
          case 1: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
          default: s.erase(pos, 1);
        }
      }
    }
    auto jwt = parse_jwt(s);
    if (jwt.ok()) {
      ++num_parsed;
      EXPECT_TRUE(jwt->header.is_object());
      EXPECT_TRUE(jwt->payload.is_object());
    }
  }
  EXPECT_LT(num_parsed, 4000);
}

}  // namespace
}  // namespace inferd::server::auth
