#include "server/auth/oidc_verifier.h"

#include <chrono>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "server/auth/jws_algorithm.h"
#include "server/auth/jwt.h"
#include "server/auth/token_claims.h"

namespace inferd::server::auth {
namespace {

constexpr std::string_view kDiscoveryPath = "/.well-known/openid-configuration";

int64_t system_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status check_options(const OidcOptions& o) {
  INFERD_RETURN_IF_ERROR(check_fetch_url(o.issuer, "issuer"));
  if (!o.jwks_uri.empty()) INFERD_RETURN_IF_ERROR(check_fetch_url(o.jwks_uri, "jwks_uri"));
  if (o.audiences.empty()) return invalid_argument("oidc: at least one audience is required");
  for (const auto& a : o.audiences)
    if (a.empty()) return invalid_argument("oidc: an audience is empty");
  if (o.service_claim.empty() || o.scope_claim.empty())
    return invalid_argument("oidc: service_claim and scope_claim must not be empty");
  if (o.leeway_s < 0 || o.jwks_min_refetch_s < 0 || o.jwks_max_age_s < 0)
    return invalid_argument(
        "oidc: leeway_s, jwks_min_refetch_s and jwks_max_age_s must not be negative");
  if (o.http_timeout_ms <= 0) return invalid_argument("oidc: http_timeout_ms must be positive");
  return Status::ok_status();
}

}  // namespace

OidcVerifier::OidcVerifier(OidcOptions options, JsonFetcher fetch, Clock clock)
    : options_(std::move(options)), fetch_(std::move(fetch)), clock_(std::move(clock)) {}

Result<std::unique_ptr<OidcVerifier>> OidcVerifier::create(OidcOptions options, JsonFetcher fetch,
                                                           Clock clock) {
  INFERD_RETURN_IF_ERROR(check_options(options));
  if (!fetch) fetch = curl_json_fetcher(options.http_timeout_ms, kMaxOidcDocumentBytes);
  if (!clock) clock = system_now_s;
  std::unique_ptr<OidcVerifier> verifier(
      new OidcVerifier(std::move(options), std::move(fetch), std::move(clock)));
  verifier->jwks_uri_ = verifier->options_.jwks_uri;
  if (verifier->jwks_uri_.empty()) INFERD_RETURN_IF_ERROR(verifier->discover());
  verifier->last_fetch_start_s_ = verifier->clock_();
  INFERD_RETURN_IF_ERROR(verifier->fetch_keys());
  return verifier;
}

Status OidcVerifier::discover() {
  std::string_view base = options_.issuer;
  if (!base.empty() && base.back() == '/') base.remove_suffix(1);
  const std::string url = std::string(base) + std::string(kDiscoveryPath);
  auto body = fetch_(url);
  if (!body.ok()) return body.status().with_context("oidc discovery");
  if (body->size() > kMaxOidcDocumentBytes)
    return invalid_argument("oidc discovery: {} is too large", url);
  const auto doc = nlohmann::json::parse(body.value(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return invalid_argument("oidc discovery: {} is not a JSON object", url);
  const auto issuer = doc.find("issuer");
  if (issuer == doc.end() || !issuer->is_string() ||
      issuer->get_ref<const std::string&>() != options_.issuer)
    return invalid_argument("oidc discovery: {} names another issuer than \"{}\"", url,
                            options_.issuer);
  const auto jwks_uri = doc.find("jwks_uri");
  if (jwks_uri == doc.end() || !jwks_uri->is_string())
    return invalid_argument("oidc discovery: {} has no \"jwks_uri\" string", url);
  INFERD_RETURN_IF_ERROR(check_fetch_url(jwks_uri->get_ref<const std::string&>(), "jwks_uri"));
  jwks_uri_ = jwks_uri->get<std::string>();
  return Status::ok_status();
}

// REQUIRES: mu_ not held. Installs the new set only when it is valid.
Status OidcVerifier::fetch_keys() {
  auto body = fetch_(jwks_uri_);
  if (!body.ok()) return body.status().with_context("oidc JWKS");
  auto set = JwkSet::parse(body.value());
  if (!set.ok()) return set.status().with_context(fmt::format("oidc JWKS {}", jwks_uri_));
  auto keys = std::make_shared<const JwkSet>(std::move(set).value());
  std::lock_guard<std::mutex> lock(mu_);
  keys_ = std::move(keys);
  keys_fetched_s_ = clock_();
  return Status::ok_status();
}

std::shared_ptr<const JwkSet> OidcVerifier::keys_for(std::string_view kid, std::string_view alg,
                                                     int64_t now_s) {
  std::shared_ptr<const JwkSet> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keys = keys_;
    const bool stale = now_s - keys_fetched_s_ >= options_.jwks_max_age_s;
    const bool missing = keys->find(kid, alg) == nullptr;
    if (!stale && !missing) return keys;
    if (now_s - last_fetch_start_s_ < options_.jwks_min_refetch_s) return keys;
    last_fetch_start_s_ = now_s;  // claims this interval's fetch for this thread
  }
  const Status st = fetch_keys();
  if (!st.ok()) {
    spdlog::warn("oidc: keeping the cached keys: {}", st.to_string());
    return keys;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return keys_;
}

Result<TokenIdentity> OidcVerifier::verify(std::string_view compact_jwt) {
  INFERD_ASSIGN_OR_RETURN(const Jwt jwt, parse_jwt(compact_jwt));
  const JwsAlgorithm* algorithm = find_jws_algorithm(jwt.alg);
  if (algorithm == nullptr)
    return invalid_argument("token algorithm \"{:.32}\" is not accepted (RS256, ES256 only)",
                            jwt.alg);
  const int64_t now_s = clock_();
  const std::shared_ptr<const JwkSet> keys = keys_for(jwt.kid, jwt.alg, now_s);
  const Jwk* key = keys->find(jwt.kid, jwt.alg);
  if (key == nullptr) {
    if (jwt.kid.empty())
      return invalid_argument("token has no \"kid\" and the issuer has not exactly one {} key",
                              jwt.alg);
    return invalid_argument("token key \"{:.64}\" is not an {} key of the issuer", jwt.kid,
                            jwt.alg);
  }
  if (!algorithm->verify(key->key.get(), jwt.signing_input, jwt.signature))
    return invalid_argument("token signature is invalid");
  return identity_from_claims(jwt.payload, options_, now_s);
}

}  // namespace inferd::server::auth
