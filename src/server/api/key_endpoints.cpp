#include "server/api/key_endpoints.h"

#include "server/api/json_body.h"
#include "server/sessions/iso8601.h"

namespace inferd::server {
namespace {

constexpr int64_t kDefaultGraceS = 24 * 3600;
constexpr int64_t kMaxLimit = int64_t{1} << 40;

void respond_json(Exchange& ex, int status, const Json& j) { (void)ex.respond(status, kJsonContentType, dump_json(j)); }

ApiError no_store_error() {
  return invalid_request_error("API keys cannot be changed: the server has no key store (set auth.keys_store)",
                               std::nullopt, std::string("no_keys_store"));
}

// The key store, or nothing (answered).
auth::ApiKeyStore* store_of(const ApiContext& api, Exchange& ex) {
  auth::ApiKeyStore* store = api.access ? api.access->key_store() : nullptr;
  if (!store) (void)respond_error(ex, no_store_error());
  return store;
}

// The record the path's {id} names (configuration first), or nothing (answered: 404, 503).
std::optional<auth::ApiKeyRecord> key_of(const ApiContext& api, const Request& request, Exchange& ex) {
  const std::string id(request.param("id").value_or(""));
  if (!api.access) return (void)respond_error(ex, not_found_error("no API key with id '" + id + "'")), std::nullopt;
  auto found = api.access->find_key(id);
  if (!found.ok()) return (void)respond_error(ex, api_error_from_status(found.status())), std::nullopt;
  if (!*found) return (void)respond_error(ex, not_found_error("no API key with id '" + id + "'")), std::nullopt;
  return std::move(**found);
}

bool refuse_config_key(const auth::ApiKeyRecord& key, Exchange& ex) {
  if (!key.from_config) return false;
  (void)respond_error(ex, invalid_request_error("the key '" + key.display_name() +
                                                    "' is listed in the configuration file; change it there",
                                                std::nullopt, std::string("key_read_only")));
  return true;
}

Json issued_json(const auth::IssuedKey& k) {
  Json j = auth::api_key_record_json(k.record, /*with_hash=*/false);
  j["key"] = k.key;
  return j;
}

Status read_key_spec(const ApiContext& api, const Json& body, int64_t now_s, auth::KeySpec* spec) {
  const FieldReader f(body, "");
  INFERD_RETURN_IF_ERROR(f.required_string("service", &spec->service));
  INFERD_RETURN_IF_ERROR(f.string("name", &spec->name));
  spec->prefix = api.access->key_prefix(spec->service);
  INFERD_RETURN_IF_ERROR(f.string("prefix", &spec->prefix));
  if (const Json* scopes = f.find("scopes")) {
    if (!scopes->is_array() || !std::all_of(scopes->begin(), scopes->end(), [](const Json& s) { return s.is_string(); }))
      return f.error("scopes", "expected a list of scope names (inference, sessions, admin)");
    auto parsed = auth::ScopeSet::parse(scopes->get<std::vector<std::string>>());
    if (!parsed.ok()) return f.error("scopes", std::string(parsed.status().message()));
    spec->scopes = *parsed;
  }
  INFERD_RETURN_IF_ERROR(f.integer("requests_per_minute", 0, kMaxLimit, &spec->limits.requests_per_minute));
  INFERD_RETURN_IF_ERROR(f.integer("tokens_per_minute", 0, kMaxLimit, &spec->limits.tokens_per_minute));
  INFERD_RETURN_IF_ERROR(f.integer("concurrent", 0, kMaxLimit, &spec->limits.concurrent));
  std::string expires_at;
  INFERD_RETURN_IF_ERROR(f.string("expires_at", &expires_at));
  int64_t expires_in_s = 0;
  INFERD_RETURN_IF_ERROR(f.integer("expires_in_s", 1, kMaxLimit, &expires_in_s));
  if (!expires_at.empty() && expires_in_s != 0) return f.error("expires_in_s", "give expires_at or expires_in_s, not both");
  if (!expires_at.empty()) {
    const auto ms = sessions::parse_iso8601(expires_at);
    if (!ms) return f.error("expires_at", "expected an ISO-8601 time such as 2027-01-31T00:00:00Z");
    spec->expires_at = *ms / 1000;
  } else if (expires_in_s != 0) {
    spec->expires_at = now_s + expires_in_s;
  }
  return {};
}

}  // namespace

void handle_create_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  auth::ApiKeyStore* store = store_of(api, *ex);
  if (!store) return;
  auto body = parse_json_object(request.body);
  if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
  auth::KeySpec spec;
  if (Status st = read_key_spec(api, *body, store->now_s(), &spec); !st.ok())
    return (void)respond_error(*ex, api_error_from_status(st));
  auto issued = store->create(spec);
  if (!issued.ok()) return (void)respond_error(*ex, api_error_from_status(issued.status()));
  respond_json(*ex, 201, issued_json(*issued));
}

void handle_list_keys(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  const std::string service(request.query.get("service").value_or(""));
  Json data = Json::array();
  if (api.access) {
    for (const auth::ApiKeyRecord& k : api.access->config_keys(service))
      data.push_back(auth::api_key_record_json(k, false));
    if (auth::ApiKeyStore* store = api.access->key_store()) {
      auto keys = store->list(service);
      if (!keys.ok()) return (void)respond_error(*ex, api_error_from_status(keys.status()));
      for (const auth::ApiKeyRecord& k : *keys) data.push_back(auth::api_key_record_json(k, false));
    }
  }
  respond_json(*ex, 200, {{"object", "list"}, {"data", std::move(data)}});
}

void handle_get_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  if (const auto key = key_of(api, request, *ex)) respond_json(*ex, 200, auth::api_key_record_json(*key, false));
}

void handle_rotate_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  const auto key = key_of(api, request, *ex);
  if (!key || refuse_config_key(*key, *ex)) return;
  auth::ApiKeyStore* store = store_of(api, *ex);
  if (!store) return;
  int64_t grace_s = kDefaultGraceS;
  if (!request.body.empty()) {
    auto body = parse_json_object(request.body);
    if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
    if (Status st = FieldReader(*body, "").integer("grace_s", 0, kMaxLimit, &grace_s); !st.ok())
      return (void)respond_error(*ex, api_error_from_status(st));
  }
  auto issued = store->rotate(key->id, grace_s);
  if (!issued.ok()) return (void)respond_error(*ex, api_error_from_status(issued.status()));
  respond_json(*ex, 201, issued_json(*issued));
}

void handle_revoke_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> ex) {
  const auto key = key_of(api, request, *ex);
  if (!key || refuse_config_key(*key, *ex)) return;
  auth::ApiKeyStore* store = store_of(api, *ex);
  if (!store) return;
  auto revoked = store->revoke(key->id);
  if (!revoked.ok()) return (void)respond_error(*ex, api_error_from_status(revoked.status()));
  respond_json(*ex, 200, auth::api_key_record_json(*revoked, false));
}

}  // namespace inferd::server
