#include "server/auth/jws_algorithm.h"

#include <array>
#include <memory>
#include <string>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

namespace inferd::server::auth {
namespace {

constexpr size_t kP256CoordinateBytes = 32;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// SHA-256 digest verification of a DER or PKCS#1 signature; the key's type picks the scheme
// (RSA keys default to PKCS#1 v1.5 padding).
bool verify_sha256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    ERR_clear_error();
    return false;
  }
  const bool ok =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) == 1;
  if (!ok) ERR_clear_error();  // a refused signature is an answer, not an error to keep queued
  return ok;
}

bool verify_rs256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  return verify_sha256(key, input, signature);
}

// JWS ECDSA signatures are r || s, each big-endian and padded to the coordinate size (RFC 7518
// section 3.4); OpenSSL verifies the DER ECDSA-Sig-Value.
bool verify_es256(EVP_PKEY* key, std::string_view input, std::string_view signature) {
  if (signature.size() != 2 * kP256CoordinateBytes) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw, kP256CoordinateBytes, nullptr);
  BIGNUM* s = BN_bin2bn(raw + kP256CoordinateBytes, kP256CoordinateBytes, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  const std::string der_signature(reinterpret_cast<const char*>(der), der_len);
  OPENSSL_free(der);
  return verify_sha256(key, input, der_signature);
}

constexpr std::array<JwsAlgorithm, 2> kAlgorithms = {{
    {"RS256", EVP_PKEY_RSA, verify_rs256},
    {"ES256", EVP_PKEY_EC, verify_es256},
}};

}  // namespace

const JwsAlgorithm* find_jws_algorithm(std::string_view name) {
  for (const auto& a : kAlgorithms)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace inferd::server::auth
