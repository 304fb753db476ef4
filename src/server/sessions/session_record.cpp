#include "server/sessions/session_record.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include "server/sessions/iso8601.h"

namespace inferd::server::sessions {
namespace {

Json time_json(int64_t ms) {
  return ms > 0 ? Json(format_iso8601(ms)) : Json(nullptr);
}

Status read_time(const Json& j, const char* key, bool required, int64_t* out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return invalid_argument("'{}' is required", key).with_field(key);
    *out = 0;
    return {};
  }
  if (!it->is_string())
    return invalid_argument("'{}' must be an ISO-8601 time", key).with_field(key);
  const auto t = parse_iso8601(it->get<std::string>());
  if (!t)
    return invalid_argument("'{}' is not an ISO-8601 time with a zone: {}", key,
                            it->get<std::string>())
        .with_field(key);
  *out = *t;
  return {};
}

}  // namespace

Json record_json(const SessionRecord& r) {
  Json j;
  j["session_id"] = r.session_id;
  j["sandbox_id"] = r.sandbox_id;
  j["user_id"] = r.user_id.empty() ? Json(nullptr) : Json(r.user_id);
  j["created_at"] = time_json(r.created_at_ms);
  j["expires_at"] = time_json(r.expires_at_ms);
  j["last_accessed"] = time_json(r.last_accessed_ms);
  j["status"] = r.status;
  j["custom_metadata"] = r.custom_metadata;
  j["service"] = r.service;
  j["version"] = r.version;
  j["message_count"] = r.message_count;
  j["ttl_seconds"] = r.ttl_s;
  j["system_prompt"] = r.system_prompt ? Json(*r.system_prompt) : Json(nullptr);
  j["template"] = r.template_name.empty() ? Json(nullptr) : Json(r.template_name);
  j["parameters"] = r.parameters;
  j["parent_session_id"] = r.parent_session_id.empty() ? Json(nullptr) : Json(r.parent_session_id);
  j["parent_message_count"] = r.parent_message_count;
  j["summary"] = r.summary.empty() ? Json(nullptr) : Json(r.summary);
  j["summary_message_count"] = r.summary_message_count;
  return j;
}

Result<SessionRecord> record_from_json(const Json& j) {
  if (!j.is_object()) return invalid_argument("a session record must be a JSON object");
  SessionRecord r;
  const FieldReader f(j, "");
  INFERD_RETURN_IF_ERROR(f.required_string("session_id", &r.session_id));
  if (!valid_session_id(r.session_id))
    return invalid_argument(
               "'session_id' must be 1-128 of A-Z a-z 0-9 . _ - (not starting with '.')")
        .with_field("session_id");
  INFERD_RETURN_IF_ERROR(f.string("sandbox_id", &r.sandbox_id));
  INFERD_RETURN_IF_ERROR(f.string("user_id", &r.user_id));
  INFERD_RETURN_IF_ERROR(read_time(j, "created_at", true, &r.created_at_ms));
  INFERD_RETURN_IF_ERROR(read_time(j, "expires_at", false, &r.expires_at_ms));
  INFERD_RETURN_IF_ERROR(read_time(j, "last_accessed", false, &r.last_accessed_ms));
  INFERD_RETURN_IF_ERROR(f.string("status", &r.status));
  if (const Json* m = f.find("custom_metadata")) {
    if (!m->is_object()) return f.error("custom_metadata", "must be an object");
    r.custom_metadata = *m;
  }
  INFERD_RETURN_IF_ERROR(f.string("service", &r.service));
  INFERD_RETURN_IF_ERROR(f.integer("version", 1, INT64_MAX, &r.version));
  INFERD_RETURN_IF_ERROR(f.integer("message_count", 0, 100'000'000, &r.message_count));
  INFERD_RETURN_IF_ERROR(f.integer("ttl_seconds", 0, INT64_MAX / 1000, &r.ttl_s));
  if (const Json* s = f.find("system_prompt")) {
    if (!s->is_string()) return f.error("system_prompt", "must be a string");
    r.system_prompt = s->get<std::string>();
  }
  INFERD_RETURN_IF_ERROR(f.string("template", &r.template_name));
  if (const Json* p = f.find("parameters")) {
    if (!p->is_object()) return f.error("parameters", "must be an object");
    r.parameters = *p;
  }
  INFERD_RETURN_IF_ERROR(f.string("parent_session_id", &r.parent_session_id));
  INFERD_RETURN_IF_ERROR(
      f.integer("parent_message_count", 0, 100'000'000, &r.parent_message_count));
  INFERD_RETURN_IF_ERROR(f.string("summary", &r.summary));
  INFERD_RETURN_IF_ERROR(
      f.integer("summary_message_count", 0, r.message_count, &r.summary_message_count));
  if (r.summary.empty()) r.summary_message_count = 0;
  return r;
}

std::string record_key(std::string_view session_id) {
  return fmt::format("session:{}", session_id);
}

std::string message_key(std::string_view session_id, int64_t index) {
  return fmt::format("session_messages:{{{}}}:{:08}", record_key(session_id), index);
}

std::string legacy_message_key(std::string_view session_id, int64_t index) {
  return fmt::format("session_messages:{}:{:08}", session_id, index);
}

Result<std::string> new_session_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return internal_error("the CSPRNG failed (RAND_bytes)");
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

bool valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  // Literal path segments of the session routes.
  if (id == "usage" || id == "templates" || id == "import") return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

}  // namespace inferd::server::sessions
