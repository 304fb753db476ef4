#include "server/auth/token_claims.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include <openssl/evp.h>

#include "server/http/route_tags.h"

namespace inferd::server::auth {
namespace {

using nlohmann::json;

constexpr size_t kMaxServiceBytes = 128;
constexpr size_t kMaxKeyIdSubjectBytes = 64;

// The numeric claim `name`: nullopt when absent; an error when present but not a number.
Result<std::optional<double>> time_claim(const json& payload, const char* name) {
  const auto it = payload.find(name);
  if (it == payload.end()) return std::optional<double>();
  if (!it->is_number()) return invalid_argument("token claim \"{}\" is not a number", name);
  return std::optional<double>(it->get<double>());
}

Status check_times(const json& payload, const OidcOptions& options, int64_t now_s) {
  const double now = static_cast<double>(now_s);
  const double leeway = options.leeway_s;
  INFERD_ASSIGN_OR_RETURN(const auto exp, time_claim(payload, "exp"));
  if (!exp) return invalid_argument("token has no \"exp\" claim");
  if (now >= *exp + leeway)
    return invalid_argument("token expired at {:.0f} (now {})", *exp, now_s);
  INFERD_ASSIGN_OR_RETURN(const auto nbf, time_claim(payload, "nbf"));
  if (nbf && *nbf > now + leeway)
    return invalid_argument("token is not valid before {:.0f} (now {})", *nbf, now_s);
  INFERD_ASSIGN_OR_RETURN(const auto iat, time_claim(payload, "iat"));
  if (iat && *iat > now + leeway)
    return invalid_argument("token is issued in the future, at {:.0f} (now {})", *iat, now_s);
  return Status::ok_status();
}

Status check_issuer_and_audience(const json& payload, const OidcOptions& options) {
  const auto iss = payload.find("iss");
  if (iss == payload.end() || !iss->is_string())
    return invalid_argument("token has no \"iss\" string claim");
  if (iss->get_ref<const std::string&>() != options.issuer)
    return invalid_argument("token issuer \"{:.128}\" is not the configured issuer",
                            iss->get_ref<const std::string&>());
  const auto aud = payload.find("aud");
  if (aud == payload.end()) return invalid_argument("token has no \"aud\" claim");
  const auto accepted = [&](const json& a) {
    return a.is_string() && std::find(options.audiences.begin(), options.audiences.end(),
                                      a.get_ref<const std::string&>()) != options.audiences.end();
  };
  if (aud->is_string()) {
    if (!accepted(*aud))
      return invalid_argument("token audience \"{:.128}\" is not accepted",
                              aud->get_ref<const std::string&>());
  } else if (aud->is_array()) {
    if (std::none_of(aud->begin(), aud->end(), accepted))
      return invalid_argument("token audiences include none accepted");
  } else {
    return invalid_argument("token claim \"aud\" is neither a string nor an array");
  }
  return Status::ok_status();
}

Result<std::string> service_of(const json& payload, const OidcOptions& options) {
  const auto claim = payload.find(options.service_claim);
  if (claim == payload.end() || !claim->is_string() || claim->get_ref<const std::string&>().empty())
    return invalid_argument(
        "token has no service: claim \"{}\" is missing or not a non-empty string",
        options.service_claim);
  const std::string& value = claim->get_ref<const std::string&>();
  if (value.size() > kMaxServiceBytes)
    return invalid_argument("token claim \"{}\" is over {} bytes", options.service_claim,
                            kMaxServiceBytes);
  if (options.services.empty()) return value;
  const auto it = options.services.find(value);
  if (it == options.services.end())
    return invalid_argument("token claim \"{}\" names no configured service",
                            options.service_claim);
  return it->second;
}

// Adds the known scope named by `granted` (with the configured prefix) to `scopes`.
void add_scope(std::string_view granted, const OidcOptions& options,
               std::vector<std::string>& scopes) {
  if (granted.substr(0, options.scope_prefix.size()) != options.scope_prefix) return;
  granted.remove_prefix(options.scope_prefix.size());
  for (const AuthScope scope : {AuthScope::kInference, AuthScope::kSessions, AuthScope::kAdmin}) {
    const char* known = auth_scope_name(scope);
    if (granted == known && std::find(scopes.begin(), scopes.end(), known) == scopes.end())
      scopes.emplace_back(known);
  }
}

Result<std::vector<std::string>> scopes_of(const json& payload, const OidcOptions& options) {
  std::vector<std::string> scopes;
  const auto claim = payload.find(options.scope_claim);
  if (claim == payload.end()) return scopes;
  if (claim->is_string()) {
    std::string_view rest = claim->get_ref<const std::string&>();
    while (!rest.empty()) {
      const size_t space = rest.find(' ');
      add_scope(rest.substr(0, space), options, scopes);
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
  } else if (claim->is_array()) {
    for (const json& s : *claim) {
      if (!s.is_string())
        return invalid_argument("token claim \"{}\" holds a non-string", options.scope_claim);
      add_scope(s.get_ref<const std::string&>(), options, scopes);
    }
  } else {
    return invalid_argument("token claim \"{}\" is neither a string nor an array",
                            options.scope_claim);
  }
  std::sort(scopes.begin(), scopes.end());
  return scopes;
}

std::string issuer_hash(const std::string& issuer) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int num_bytes = 0;
  if (EVP_Digest(issuer.data(), issuer.size(), digest, &num_bytes, EVP_sha256(), nullptr) != 1)
    return "00000000";
  return fmt::format("{:02x}{:02x}{:02x}{:02x}", digest[0], digest[1], digest[2], digest[3]);
}

std::string loggable(std::string_view subject) {
  std::string out(subject.substr(0, kMaxKeyIdSubjectBytes));
  for (char& c : out) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '@' || c == ':' || c == '-';
    if (!safe) c = '_';
  }
  return out;
}

}  // namespace

Result<TokenIdentity> identity_from_claims(const json& payload, const OidcOptions& options,
                                           int64_t now_s) {
  INFERD_RETURN_IF_ERROR(check_issuer_and_audience(payload, options));
  INFERD_RETURN_IF_ERROR(check_times(payload, options, now_s));
  TokenIdentity identity;
  INFERD_ASSIGN_OR_RETURN(identity.service, service_of(payload, options));
  INFERD_ASSIGN_OR_RETURN(identity.scopes, scopes_of(payload, options));
  if (const auto sub = payload.find("sub"); sub != payload.end()) {
    if (!sub->is_string()) return invalid_argument("token claim \"sub\" is not a string");
    identity.subject = sub->get<std::string>();
  }
  identity.key_id = "jwt:" + issuer_hash(options.issuer) + ":" + loggable(identity.subject);
  return identity;
}

}  // namespace inferd::server::auth
