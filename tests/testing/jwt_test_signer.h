// Test-only JWT issuing: RSA-2048 and P-256 keys generated with OpenSSL, their public JWKs, and
// compact JWS tokens signed with them (RS256, ES256), or with a raw HMAC secret (HS256) or any
// signature bytes, for tests of token verification. Never used by production code.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <nlohmann/json.hpp>

#include "server/auth/base64url.h"

namespace inferd::testing {

// "<b64(header)>.<b64(payload)>.<b64(signature)>" with the given bytes.
inline std::string assemble_jwt(const nlohmann::json& header, const nlohmann::json& payload,
                                std::string_view signature) {
  return server::auth::base64url_encode(header.dump()) + "." +
         server::auth::base64url_encode(payload.dump()) + "." +
         server::auth::base64url_encode(signature);
}

class TestSigningKey {
 public:
  static TestSigningKey rsa(std::string kid, int bits = 2048) {
    return TestSigningKey(EVP_RSA_gen(bits), std::move(kid), "RS256");
  }
  static TestSigningKey p256(std::string kid) {
    return TestSigningKey(EVP_EC_gen("P-256"), std::move(kid), "ES256");
  }

  const std::string& kid() const { return kid_; }
  const std::string& alg() const { return alg_; }

  // The public key as a JWK with kty, kid, use "sig" and alg.
  nlohmann::json jwk() const {
    nlohmann::json j = {{"kid", kid_}, {"use", "sig"}, {"alg", alg_}};
    if (alg_ == "RS256") {
      j["kty"] = "RSA";
      j["n"] = server::auth::base64url_encode(bn_param(OSSL_PKEY_PARAM_RSA_N, 0));
      j["e"] = server::auth::base64url_encode(bn_param(OSSL_PKEY_PARAM_RSA_E, 0));
    } else {
      j["kty"] = "EC";
      j["crv"] = "P-256";
      j["x"] = server::auth::base64url_encode(bn_param(OSSL_PKEY_PARAM_EC_PUB_X, 32));
      j["y"] = server::auth::base64url_encode(bn_param(OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    }
    return j;
  }

  // A token of `payload` signed with this key; the header gets alg and kid (unless `with_kid`
  // is false), merged with `extra_header`.
  std::string sign(const nlohmann::json& payload, bool with_kid = true,
                   const nlohmann::json& extra_header = nlohmann::json::object()) const {
    nlohmann::json header = {{"alg", alg_}, {"typ", "JWT"}};
    if (with_kid) header["kid"] = kid_;
    header.update(extra_header);
    const std::string input = server::auth::base64url_encode(header.dump()) + "." +
                              server::auth::base64url_encode(payload.dump());
    return input + "." + server::auth::base64url_encode(signature(input));
  }

  // The JWS signature of `input` (RS256: PKCS#1 v1.5; ES256: raw r || s).
  std::string signature(std::string_view input) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
      throw std::runtime_error("EVP_DigestSign failed");
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
      throw std::runtime_error("EVP_DigestSign failed");
    sig.resize(len);
    if (alg_ == "RS256") return sig;
    const unsigned char* der = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(d2i_ECDSA_SIG(nullptr, &der, len),
                                                                ECDSA_SIG_free);
    if (!ecdsa) throw std::runtime_error("d2i_ECDSA_SIG failed");
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(ecdsa.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(ecdsa.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32,
                 32);
    return raw;
  }

 private:
  TestSigningKey(EVP_PKEY* key, std::string kid, std::string alg)
      : key_(key, EVP_PKEY_free), kid_(std::move(kid)), alg_(std::move(alg)) {
    if (!key_) throw std::runtime_error("key generation failed");
  }

  // A big-number parameter of the key, big-endian, left-padded to `pad_bytes` when non-zero.
  std::string bn_param(const char* name, int pad_bytes) const {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), name, &bn) != 1) throw std::runtime_error(name);
    std::string out(pad_bytes > 0 ? pad_bytes : BN_num_bytes(bn), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
  }

  std::shared_ptr<EVP_PKEY> key_;
  std::string kid_;
  std::string alg_;
};

// An RSA-2048 key "rsa-1" and a P-256 key "ec-1", generated once per test program.
inline const TestSigningKey& shared_rsa_key() {
  static const TestSigningKey key = TestSigningKey::rsa("rsa-1");
  return key;
}
inline const TestSigningKey& shared_p256_key() {
  static const TestSigningKey key = TestSigningKey::p256("ec-1");
  return key;
}

// A JWKS document {"keys":[...]} of the given keys' public JWKs.
template <typename... Keys>
std::string jwks_of(const Keys&... keys) {
  nlohmann::json doc = {{"keys", nlohmann::json::array({keys.jwk()...})}};
  return doc.dump();
}

// HMAC-SHA256 of `input` under `secret`: an HS256 signature.
inline std::string hs256_signature(std::string_view secret, std::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

}  // namespace inferd::testing
