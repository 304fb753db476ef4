#include "server/auth/api_key_record.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/auth/api_key.h"
#include "server/sessions/iso8601.h"

namespace inferd::server::auth {

using Json = nlohmann::ordered_json;

std::optional<std::string> ApiKeyRecord::refusal(int64_t now_s) const {
  if (revoked_at != 0) return fmt::format("The API key '{}' has been revoked.", display_name());
  if (expires_at != 0 && now_s >= expires_at)
    return fmt::format("The API key '{}' expired at {}.", display_name(), sessions::format_iso8601(expires_at * 1000));
  return std::nullopt;
}

std::string ApiKeyRecord::display_name() const { return key_display_name(prefix, id); }

Json api_key_record_json(const ApiKeyRecord& r, bool with_hash) {
  Json j = {{"object", "api_key"},
            {"id", r.id},
            {"display", r.display_name()},
            {"prefix", r.prefix},
            {"service", r.service},
            {"name", r.name},
            {"scopes", r.scopes.names()},
            {"requests_per_minute", r.limits.requests_per_minute},
            {"tokens_per_minute", r.limits.tokens_per_minute},
            {"concurrent", r.limits.concurrent},
            {"created_at", r.created_at},
            {"expires_at", r.expires_at == 0 ? Json(nullptr) : Json(r.expires_at)},
            {"revoked_at", r.revoked_at == 0 ? Json(nullptr) : Json(r.revoked_at)},
            {"rotated_from", r.rotated_from.empty() ? Json(nullptr) : Json(r.rotated_from)},
            {"replaced_by", r.replaced_by.empty() ? Json(nullptr) : Json(r.replaced_by)},
            {"source", r.from_config ? "config" : "store"}};
  if (with_hash) j["hash"] = r.hash;
  return j;
}

Result<ApiKeyRecord> api_key_record_from_json(std::string_view text) {
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return data_loss("API key record: not a JSON object");
  try {
    ApiKeyRecord r;
    r.id = j.at("id").get<std::string>();
    r.prefix = j.at("prefix").get<std::string>();
    r.hash = j.at("hash").get<std::string>();
    r.service = j.at("service").get<std::string>();
    r.name = j.value("name", "");
    INFERD_ASSIGN_OR_RETURN(r.scopes, ScopeSet::parse(j.at("scopes").get<std::vector<std::string>>()));
    r.limits.requests_per_minute = j.value("requests_per_minute", int64_t{0});
    r.limits.tokens_per_minute = j.value("tokens_per_minute", int64_t{0});
    r.limits.concurrent = j.value("concurrent", int64_t{0});
    r.created_at = j.value("created_at", int64_t{0});
    const auto opt_int = [&](const char* k) { return j.contains(k) && j[k].is_number_integer() ? j[k].get<int64_t>() : 0; };
    const auto opt_str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    r.expires_at = opt_int("expires_at");
    r.revoked_at = opt_int("revoked_at");
    r.rotated_from = opt_str("rotated_from");
    r.replaced_by = opt_str("replaced_by");
    return r;
  } catch (const Json::exception& e) {
    return data_loss("API key record: {}", e.what());
  }
}

}  // namespace inferd::server::auth
