#include "server/auth/jwk_set.h"

#include <algorithm>
#include <array>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <nlohmann/json.hpp>

#include "server/auth/base64url.h"

namespace inferd::server::auth {
namespace {

using nlohmann::json;

constexpr int kMinRsaModulusBits = 2048;
constexpr int kMaxRsaModulusBits = 8192;
constexpr size_t kMaxRsaExponentBytes = 8;
constexpr size_t kP256CoordinateBytes = 32;

struct BnFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using Bignum = std::unique_ptr<BIGNUM, BnFree>;

// The base64url member `name` of `jwk`, decoded.
Result<std::string> member_bytes(const json& jwk, const char* name) {
  const auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string())
    return invalid_argument("\"{}\" is missing or not a string", name);
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes.ok()) return bytes.status().with_context(fmt::format("\"{}\"", name));
  if (bytes->empty()) return invalid_argument("\"{}\" is empty", name);
  return bytes;
}

Bignum to_bignum(const std::string& bytes) {
  return Bignum(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr));
}

// A public key of `type` ("RSA", "EC") from `params`, checked by OpenSSL's public-key validation
// (for EC: the point lies on the curve).
Result<std::shared_ptr<EVP_PKEY>> key_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return invalid_argument("OpenSSL refused the {} key parameters", type);
  }
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return invalid_argument("the {} public key is not valid", type);
  }
  return key;
}

Result<std::shared_ptr<EVP_PKEY>> build_rsa(const json& jwk) {
  INFERD_ASSIGN_OR_RETURN(const std::string n_bytes, member_bytes(jwk, "n"));
  INFERD_ASSIGN_OR_RETURN(const std::string e_bytes, member_bytes(jwk, "e"));
  if (e_bytes.size() > kMaxRsaExponentBytes)
    return invalid_argument("RSA exponent is {} bytes, over {}", e_bytes.size(),
                            kMaxRsaExponentBytes);
  Bignum n = to_bignum(n_bytes);
  Bignum e = to_bignum(e_bytes);
  if (!n || !e) return internal_error("out of memory building an RSA key");
  const int modulus_bits = BN_num_bits(n.get());
  if (modulus_bits < kMinRsaModulusBits || modulus_bits > kMaxRsaModulusBits)
    return invalid_argument("RSA modulus has {} bits, outside {}..{}", modulus_bits,
                            kMinRsaModulusBits, kMaxRsaModulusBits);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1)
    return internal_error("out of memory building an RSA key");
  return key_from_params("RSA", bld.get());
}

Result<std::shared_ptr<EVP_PKEY>> build_p256(const json& jwk) {
  INFERD_ASSIGN_OR_RETURN(const std::string x, member_bytes(jwk, "x"));
  INFERD_ASSIGN_OR_RETURN(const std::string y, member_bytes(jwk, "y"));
  if (x.size() != kP256CoordinateBytes || y.size() != kP256CoordinateBytes)
    return invalid_argument("P-256 coordinates must be {} bytes each", kP256CoordinateBytes);
  // Uncompressed SEC1 point: 0x04 || x || y.
  const std::string point = std::string(1, '\x04') + x + y;
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return internal_error("out of memory building an EC key");
  return key_from_params("EC", bld.get());
}

// Key types by (kty, crv): the algorithm each verifies and how it is built. One row per type.
struct KeyType {
  std::string_view kty;
  std::string_view crv;  // empty: the key type has no curve
  std::string_view alg;
  Result<std::shared_ptr<EVP_PKEY>> (*build)(const json& jwk);
};
constexpr std::array<KeyType, 2> kKeyTypes = {{
    {"RSA", "", "RS256", build_rsa},
    {"EC", "P-256", "ES256", build_p256},
}};

std::string string_member(const json& jwk, const char* name) {
  const auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The row for `jwk`, or nullptr when the key is not one for verifying signatures here.
const KeyType* usable_key_type(const json& jwk) {
  const std::string kty = string_member(jwk, "kty");
  const std::string crv = string_member(jwk, "crv");
  const auto row = std::find_if(kKeyTypes.begin(), kKeyTypes.end(), [&](const KeyType& t) {
    return t.kty == kty && (t.crv.empty() || t.crv == crv);
  });
  if (row == kKeyTypes.end()) return nullptr;
  if (jwk.contains("use") && string_member(jwk, "use") != "sig") return nullptr;
  if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
    if (!ops->is_array() || std::find(ops->begin(), ops->end(), json("verify")) == ops->end())
      return nullptr;
  }
  if (jwk.contains("alg") && string_member(jwk, "alg") != row->alg) return nullptr;
  return &*row;
}

}  // namespace

Result<JwkSet> JwkSet::parse(std::string_view json_text) {
  if (json_text.size() > kMaxJwksBytes)
    return invalid_argument("JWKS is {} bytes, over the limit of {}", json_text.size(),
                            kMaxJwksBytes);
  const json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid_argument("JWKS is not valid JSON");
  const auto keys = doc.is_object() ? doc.find("keys") : doc.end();
  if (!doc.is_object() || keys == doc.end() || !keys->is_array())
    return invalid_argument("JWKS has no \"keys\" array");
  if (keys->size() > kMaxJwkCount)
    return invalid_argument("JWKS lists {} keys, over the limit of {}", keys->size(), kMaxJwkCount);

  JwkSet set;
  Status first_refusal;
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& entry = (*keys)[i];
    if (!entry.is_object()) return invalid_argument("JWKS keys[{}] is not an object", i);
    const KeyType* type = usable_key_type(entry);
    if (type == nullptr) continue;
    auto key = type->build(entry);
    if (!key.ok()) {
      if (first_refusal.ok()) first_refusal = key.status().with_context(fmt::format("keys[{}]", i));
      continue;
    }
    set.keys_.push_back(
        {string_member(entry, "kid"), std::string(type->alg), std::move(key).value()});
  }
  if (set.keys_.empty()) {
    if (!first_refusal.ok()) return first_refusal.with_context("JWKS has no usable key");
    return invalid_argument("JWKS has no RS256 or ES256 signing key");
  }
  return set;
}

const Jwk* JwkSet::find(std::string_view kid, std::string_view alg) const {
  if (!kid.empty()) {
    for (const Jwk& k : keys_)
      if (k.kid == kid && k.alg == alg) return &k;
    return nullptr;
  }
  const Jwk* only = nullptr;
  for (const Jwk& k : keys_) {
    if (k.alg != alg) continue;
    if (only != nullptr) return nullptr;
    only = &k;
  }
  return only;
}

}  // namespace inferd::server::auth
