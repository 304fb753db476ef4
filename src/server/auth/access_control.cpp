#include "server/auth/access_control.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/auth/api_key.h"
#include "server/auth/jwt.h"
#include "server/http/request.h"

namespace inferd::server::auth {
namespace {

bool iequals_ascii(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The credential the request carries, if any.
std::optional<std::string_view> credential_of(const Request& request) {
  if (const auto header = request.header("authorization")) {
    const std::string_view value = *header;
    const size_t space = value.find(' ');
    if (space != std::string_view::npos && iequals_ascii(value.substr(0, space), "bearer")) {
      std::string_view token = value.substr(space + 1);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
      return token;
    }
  }
  if (const auto key = request.header("x-api-key")) return *key;
  return std::nullopt;
}

ApiError unauthenticated(std::string message, std::string code) {
  ApiError e = authentication_error(std::move(message));
  e.code = std::move(code);
  e.headers = {{"WWW-Authenticate", "Bearer realm=\"inferd\""}};
  return e;
}

ApiError invalid_key() {
  return unauthenticated("Incorrect API key provided. Check the key, or ask the server's administrator for one.",
                         "invalid_api_key");
}

}  // namespace

Result<std::shared_ptr<AccessControl>> AccessControl::create(AccessOptions options) {
  if (!options.now_s) options.now_s = [] { return sessions::unix_now_ms() / 1000; };
  std::shared_ptr<AccessControl> access(new AccessControl(std::move(options)));
  const auto& keys = access->options_.config_keys;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string where = fmt::format("api_keys[{}]", i);
    INFERD_RETURN_IF_ERROR(check_key_hash(keys[i].hash).with_field(where + ".hash"));
    if (!access->config_key_index_.emplace(keys[i].id, i).second)
      return invalid_argument("the key id '{}' is listed twice", keys[i].id).with_field(where + ".id");
  }
  return access;
}

AccessControl::AccessControl(AccessOptions options) : options_(std::move(options)) {}

Authenticator AccessControl::authenticator(std::shared_ptr<const AccessControl> access) {
  return [access](const Request& request) { return access->authenticate(request); };
}

bool AccessControl::is_public(const Request& request) const {
  const auto& paths = options_.public_paths;
  return std::find(paths.begin(), paths.end(), request.path) != paths.end();
}

std::string AccessControl::key_prefix(const std::string& service) const {
  const auto it = options_.key_prefixes.find(service);
  return it != options_.key_prefixes.end() ? it->second : std::string(kDefaultKeyPrefix);
}

std::vector<ApiKeyRecord> AccessControl::config_keys(const std::string& service) const {
  std::vector<ApiKeyRecord> out;
  for (const ApiKeyRecord& k : options_.config_keys)
    if (service.empty() || k.service == service) out.push_back(k);
  return out;
}

Result<std::optional<ApiKeyRecord>> AccessControl::find_key(const std::string& id) const {
  if (const auto it = config_key_index_.find(id); it != config_key_index_.end())
    return std::optional<ApiKeyRecord>(options_.config_keys[it->second]);
  if (!options_.key_store) return std::optional<ApiKeyRecord>();
  return options_.key_store->find(id);
}

std::variant<AccessControl::Identity, ApiError> AccessControl::identify_key(std::string_view credential) const {
  const auto parts = parse_api_key(credential);
  if (!parts) return invalid_key();
  auto found = find_key(std::string(parts->id));
  if (!found.ok()) {
    spdlog::error("auth: cannot read the key store: {}", found.status().to_string());
    return overloaded_error("The key store cannot be read; retry shortly.", 1);
  }
  const std::optional<ApiKeyRecord>& key = *found;
  if (!key || key->prefix != parts->prefix || !api_key_matches(key->hash, credential)) return invalid_key();
  if (auto why = key->refusal(options_.now_s())) return unauthenticated(std::move(*why), "invalid_api_key");
  return Identity{key->service, key->id, "The API key '" + key->display_name() + "'", key->scopes, key->limits};
}

std::variant<AccessControl::Identity, ApiError> AccessControl::identify_token(std::string_view token) const {
  if (!options_.oidc)
    return unauthenticated("Bearer JWTs are not accepted here: the server trusts no OIDC issuer.", "invalid_token");
  auto verified = options_.oidc->verify(token);
  if (!verified.ok()) return unauthenticated("Invalid bearer token: " + verified.status().message(), "invalid_token");
  auto scopes = ScopeSet::parse(verified->scopes);
  if (!scopes.ok()) return unauthenticated(std::string(scopes.status().message()), "invalid_token");
  return Identity{verified->service, verified->key_id, "The token of '" + verified->key_id + "'", *scopes, {}};
}

std::optional<AccessControl::Identity> AccessControl::identify_certificate(const Request& request) const {
  if (request.client_cert_subject.empty()) return std::nullopt;
  for (const ClientCertIdentity& c : options_.client_certs)
    if (c.subject == request.client_cert_subject)
      return Identity{c.service, "cert:" + c.subject, "The client certificate '" + c.subject + "'", c.scopes, {}};
  return std::nullopt;
}

std::variant<Caller, ApiError> AccessControl::authenticate(const Request& request) const {
  if (is_public(request)) return Caller{};
  std::variant<Identity, ApiError> who;
  const auto credential = credential_of(request);
  if (credential && !credential->empty()) {
    who = looks_like_jwt(*credential) ? identify_token(*credential) : identify_key(*credential);
  } else if (auto certified = identify_certificate(request)) {
    who = std::move(*certified);
  } else {
    return unauthenticated(
        "You didn't provide an API key. Send it in the Authorization header as 'Bearer YOUR_KEY'.",
        "missing_api_key");
  }
  if (auto* refused = std::get_if<ApiError>(&who)) return std::move(*refused);
  const Identity& id = std::get<Identity>(who);
  if (!id.scopes.grants(request.auth_scope)) {
    ApiError e = permission_error(fmt::format("{} lacks the '{}' scope that {} {} requires.", id.described,
                                              auth_scope_name(request.auth_scope), request.method, request.path));
    e.code = "insufficient_scope";
    return e;
  }
  Caller caller{.service = id.service, .key_id = id.key_id};
  if (!options_.limiter || request.rate_class == RateClass::kUnlimited) return caller;
  const auto subjects = rate_subjects(id.service, id.key_id, id.limits);
  if (subjects.empty()) return caller;
  auto admitted = options_.limiter->admit(subjects, request.rate_class);
  if (auto* refused = std::get_if<ApiError>(&admitted)) return std::move(*refused);
  auto& admission = std::get<ratelimit::RateAdmission>(admitted);
  caller.hold = std::move(admission.hold);
  caller.response_headers = std::move(admission.headers);
  return caller;
}

std::vector<ratelimit::RateSubject> AccessControl::rate_subjects(const std::string& service, const std::string& key_id,
                                                                 const KeyLimits& key_limits) const {
  const auto to_limits = [](const KeyLimits& l) {
    const auto u32 = [](int64_t v) { return static_cast<uint32_t>(std::clamp<int64_t>(v, 0, UINT32_MAX)); };
    return ratelimit::RateLimits{u32(l.requests_per_minute), static_cast<uint64_t>(std::max<int64_t>(l.tokens_per_minute, 0)),
                                 u32(l.concurrent)};
  };
  std::vector<ratelimit::RateSubject> out;
  if (const auto it = options_.service_limits.find(service); it != options_.service_limits.end())
    if (const auto limits = to_limits(it->second); !limits.unlimited()) out.push_back({"service:" + service, limits});
  if (const auto limits = to_limits(key_limits); !limits.unlimited()) out.push_back({"key:" + key_id, limits});
  return out;
}

void AccessControl::on_exchange_end(const ExchangeRecord& record) {
  const Caller& caller = record.request.caller;
  if (!options_.limiter || caller.key_id.empty()) return;
  uint64_t tokens = 0;
  for (const char* name : {"prompt_tokens", "completion_tokens"})
    if (const std::string* v = record.annotation(name)) tokens += std::strtoull(v->c_str(), nullptr, 10);
  if (tokens == 0) return;
  KeyLimits key_limits;
  if (auto key = find_key(caller.key_id); key.ok() && *key) key_limits = (*key)->limits;
  const auto subjects = rate_subjects(caller.service, caller.key_id, key_limits);
  if (!subjects.empty()) options_.limiter->charge_tokens(subjects, tokens);
}

}  // namespace inferd::server::auth
