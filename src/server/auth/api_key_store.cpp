#include "server/auth/api_key_store.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/auth/api_key.h"

namespace inferd::server::auth {
namespace {

constexpr std::string_view kKeyPrefix = "apikey:";

std::string kv_key(const std::string& id) { return std::string(kKeyPrefix) + id; }

std::string stored_json(const ApiKeyRecord& r) { return api_key_record_json(r, /*with_hash=*/true).dump(); }

}  // namespace

ApiKeyStore::ApiKeyStore(std::shared_ptr<sessions::KvStore> kv, std::function<int64_t()> now_s)
    : kv_(std::move(kv)), now_s_(now_s ? std::move(now_s) : [] { return sessions::unix_now_ms() / 1000; }) {}

Result<std::shared_ptr<ApiKeyStore>> ApiKeyStore::open(const std::string& url) {
  INFERD_ASSIGN_OR_RETURN(auto kv, sessions::open_kv_store(url));
  return std::make_shared<ApiKeyStore>(std::move(kv));
}

Status ApiKeyStore::check_spec(const KeySpec& spec) const {
  if (spec.service.empty()) return invalid_argument("a key needs a service").with_field("service");
  if (spec.scopes.empty()) return invalid_argument("a key needs at least one scope").with_field("scopes");
  INFERD_RETURN_IF_ERROR(check_key_prefix(spec.prefix).with_field("prefix"));
  for (auto [value, field] : {std::pair{spec.limits.requests_per_minute, "requests_per_minute"},
                              {spec.limits.tokens_per_minute, "tokens_per_minute"},
                              {spec.limits.concurrent, "concurrent"}})
    if (value < 0) return invalid_argument("a limit is 0 (none) or positive, not {}", value).with_field(field);
  if (spec.expires_at != 0 && spec.expires_at <= now_s_())
    return invalid_argument("the expiry is in the past").with_field("expires_at");
  return {};
}

Result<IssuedKey> ApiKeyStore::issue(const KeySpec& spec, const std::string& rotated_from) {
  INFERD_RETURN_IF_ERROR(check_spec(spec));
  INFERD_ASSIGN_OR_RETURN(NewApiKey key, generate_api_key(spec.prefix));
  IssuedKey out;
  out.key = std::move(key.key);
  ApiKeyRecord& r = out.record;
  r.id = std::move(key.id);
  r.prefix = spec.prefix;
  r.hash = hash_api_key(out.key);
  r.service = spec.service;
  r.name = spec.name;
  r.scopes = spec.scopes;
  r.limits = spec.limits;
  r.created_at = now_s_();
  r.expires_at = spec.expires_at;
  r.rotated_from = rotated_from;
  return out;
}

Result<IssuedKey> ApiKeyStore::create(const KeySpec& spec) {
  INFERD_ASSIGN_OR_RETURN(IssuedKey k, issue(spec, ""));
  INFERD_ASSIGN_OR_RETURN(bool written,
                          kv_->commit({{kv_key(k.record.id), std::nullopt}},
                                      {sessions::KvWrite::put(kv_key(k.record.id), stored_json(k.record), 0)}));
  if (!written) return internal_error("a new key's id is already taken (retry)");
  return k;
}

Result<std::pair<ApiKeyRecord, std::string>> ApiKeyStore::load(const std::string& id) {
  INFERD_ASSIGN_OR_RETURN(auto text, kv_->get(kv_key(id)));
  if (!text) return not_found("no API key with id '{}'", id);
  INFERD_ASSIGN_OR_RETURN(ApiKeyRecord r, api_key_record_from_json(*text));
  return std::pair{std::move(r), std::move(*text)};
}

Result<std::optional<ApiKeyRecord>> ApiKeyStore::find(const std::string& id) {
  auto loaded = load(id);
  if (!loaded.ok()) {
    if (loaded.status().code() == StatusCode::kNotFound) return std::optional<ApiKeyRecord>();
    return loaded.status();
  }
  return std::optional<ApiKeyRecord>(std::move(loaded->first));
}

Result<std::vector<ApiKeyRecord>> ApiKeyStore::list(const std::string& service) {
  INFERD_ASSIGN_OR_RETURN(std::vector<std::string> keys, kv_->keys(std::string(kKeyPrefix)));
  INFERD_ASSIGN_OR_RETURN(auto values, kv_->get_many(keys));
  std::vector<ApiKeyRecord> out;
  for (const auto& v : values) {
    if (!v) continue;
    INFERD_ASSIGN_OR_RETURN(ApiKeyRecord r, api_key_record_from_json(*v));
    if (service.empty() || r.service == service) out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const ApiKeyRecord& a, const ApiKeyRecord& b) {
    return a.created_at < b.created_at;
  });
  return out;
}

Result<IssuedKey> ApiKeyStore::rotate(const std::string& id, int64_t grace_s) {
  if (grace_s < 0) return invalid_argument("the grace period is 0 or more seconds").with_field("grace_s");
  INFERD_ASSIGN_OR_RETURN(auto loaded, load(id));
  auto& [old, old_text] = loaded;
  const int64_t now = now_s_();
  if (auto why = old.refusal(now)) return invalid_argument("cannot rotate: {}", *why);
  KeySpec spec{old.service, old.name, old.prefix, old.scopes, old.limits, old.expires_at};
  if (spec.expires_at != 0 && spec.expires_at <= now) spec.expires_at = 0;
  INFERD_ASSIGN_OR_RETURN(IssuedKey fresh, issue(spec, old.id));
  old.replaced_by = fresh.record.id;
  old.expires_at = old.expires_at == 0 ? now + grace_s : std::min(old.expires_at, now + grace_s);
  // Two commits, because the two records may live in different Redis Cluster slots: the new key
  // first, then the old one pointing at it. When the second does not apply, the new key is erased
  // again (its secret was never handed out); if even that fails, it stays as an unused key.
  INFERD_ASSIGN_OR_RETURN(
      bool created,
      kv_->commit({{kv_key(fresh.record.id), std::nullopt}},
                  {sessions::KvWrite::put(kv_key(fresh.record.id), stored_json(fresh.record), 0)}));
  if (!created) return internal_error("a new key's id is already taken (retry)");
  auto updated = kv_->commit({{kv_key(old.id), old_text}},
                             {sessions::KvWrite::put(kv_key(old.id), stored_json(old), 0)});
  if (updated.ok() && *updated) return fresh;
  if (auto undone = kv_->commit({}, {sessions::KvWrite::erase(kv_key(fresh.record.id))});
      !undone.ok())
    spdlog::warn("key rotation: the unused new key {} was not removed: {}", fresh.record.id,
                 undone.status().to_string());
  if (!updated.ok()) return updated.status();
  return invalid_argument("the key '{}' changed during the rotation; retry", old.display_name());
}

Result<ApiKeyRecord> ApiKeyStore::revoke(const std::string& id) {
  INFERD_ASSIGN_OR_RETURN(auto loaded, load(id));
  auto& [r, text] = loaded;
  if (r.revoked_at != 0) return r;
  r.revoked_at = now_s_();
  INFERD_ASSIGN_OR_RETURN(bool written, kv_->commit({{kv_key(id), text}},
                                                    {sessions::KvWrite::put(kv_key(id), stored_json(r), 0)}));
  if (!written) return invalid_argument("the key '{}' changed during the revocation; retry", r.display_name());
  return r;
}

}  // namespace inferd::server::auth
