#include "server/auth/jwk_set.h"

#include <gtest/gtest.h>

#include "server/auth/base64url.h"
#include "testing/jwt_test_signer.h"

namespace inferd::server::auth {
namespace {

using nlohmann::json;
using testing::TestSigningKey;

const TestSigningKey& rsa_key() {
  return testing::shared_rsa_key();
}
const TestSigningKey& ec_key() {
  return testing::shared_p256_key();
}

std::string doc_of(std::vector<json> keys) {
  return json{{"keys", keys}}.dump();
}

TEST(JwkSetTest, BuildsRsaAndP256KeysByKidAndAlg) {
  auto set = JwkSet::parse(testing::jwks_of(rsa_key(), ec_key()));
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->keys().size(), 2u);
  const Jwk* rsa = set->find("rsa-1", "RS256");
  ASSERT_NE(rsa, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(rsa->key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(rsa->key.get()), 2048);
  const Jwk* ec = set->find("ec-1", "ES256");
  ASSERT_NE(ec, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(ec->key.get()), EVP_PKEY_EC);
  // A kid is bound to its algorithm: no algorithm confusion across key types.
  EXPECT_EQ(set->find("rsa-1", "ES256"), nullptr);
  EXPECT_EQ(set->find("ec-1", "RS256"), nullptr);
  EXPECT_EQ(set->find("other", "RS256"), nullptr);
}

TEST(JwkSetTest, AlgIsOptionalAndDerivedFromTheKeyType) {
  json jwk = rsa_key().jwk();
  jwk.erase("alg");
  jwk.erase("use");
  auto set = JwkSet::parse(doc_of({jwk}));
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  EXPECT_EQ(set->keys()[0].alg, "RS256");
}

TEST(JwkSetTest, SkipsKeysNotForSignatureVerificationHere) {
  json enc = rsa_key().jwk();
  enc["use"] = "enc";
  json rs384 = rsa_key().jwk();
  rs384["alg"] = "RS384";
  json p384 = ec_key().jwk();
  p384["crv"] = "P-384";
  json okp = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}};
  json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}};
  json sign_only = ec_key().jwk();
  sign_only["key_ops"] = json::array({"sign"});
  json verify_ops = ec_key().jwk();
  verify_ops["kid"] = "ops";
  verify_ops["key_ops"] = json::array({"verify"});
  auto set = JwkSet::parse(doc_of({enc, rs384, p384, okp, oct, sign_only, verify_ops}));
  ASSERT_TRUE(set.ok()) << set.status().to_string();
  ASSERT_EQ(set->keys().size(), 1u);
  EXPECT_EQ(set->keys()[0].kid, "ops");
}

TEST(JwkSetTest, SkipsInvalidKeysAndNamesTheReasonWhenNoneIsLeft) {
  const TestSigningKey weak = TestSigningKey::rsa("weak", 1024);
  json off_curve = ec_key().jwk();
  std::string y = base64url_decode(off_curve["y"].get<std::string>()).value();
  y[31] ^= 1;
  off_curve["y"] = base64url_encode(y);
  json short_x = ec_key().jwk();
  short_x["x"] = base64url_encode(std::string(31, '\x01'));
  json bad_n = rsa_key().jwk();
  bad_n["n"] = "not base64!";

  auto mixed = JwkSet::parse(doc_of({weak.jwk(), off_curve, short_x, bad_n, ec_key().jwk()}));
  ASSERT_TRUE(mixed.ok()) << mixed.status().to_string();
  EXPECT_EQ(mixed->keys().size(), 1u);

  auto only_weak = JwkSet::parse(doc_of({weak.jwk()}));
  ASSERT_FALSE(only_weak.ok());
  EXPECT_NE(only_weak.status().message().find("1024 bits"), std::string::npos)
      << only_weak.status().message();
  auto only_off_curve = JwkSet::parse(doc_of({off_curve}));
  ASSERT_FALSE(only_off_curve.ok());
  EXPECT_NE(only_off_curve.status().message().find("EC"), std::string::npos)
      << only_off_curve.status().message();
}

TEST(JwkSetTest, RefusesMalformedDocuments) {
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      R"({"keys":{}})",
      R"({"other":[]})",
      R"({"keys":[]})",
      R"({"keys":[1]})",
      doc_of(std::vector<json>(kMaxJwkCount + 1, ec_key().jwk())),
      R"({"keys":[],"pad":")" + std::string(kMaxJwksBytes, 'a') + "\"}",
  };
  for (const auto& doc : bad) EXPECT_FALSE(JwkSet::parse(doc).ok()) << doc.substr(0, 80);
}

TEST(JwkSetTest, EmptyKidFindsTheAlgorithmsOnlyKey) {
  const TestSigningKey rsa2 = TestSigningKey::rsa("rsa-2");
  auto one_each = JwkSet::parse(testing::jwks_of(rsa_key(), ec_key()));
  ASSERT_TRUE(one_each.ok());
  ASSERT_NE(one_each->find("", "ES256"), nullptr);
  ASSERT_NE(one_each->find("", "RS256"), nullptr);
  auto two_rsa = JwkSet::parse(testing::jwks_of(rsa_key(), rsa2, ec_key()));
  ASSERT_TRUE(two_rsa.ok());
  EXPECT_EQ(two_rsa->find("", "RS256"), nullptr);
  EXPECT_NE(two_rsa->find("rsa-2", "RS256"), nullptr);
}

}  // namespace
}  // namespace inferd::server::auth
