// AuditLog: one JSON line per request in an append-only file, for compliance review:
//   {"time":"2026-11-29T04:50:00.123Z","request_id","service","key_id","client","method","path",
//    "route","model","status","latency_ms","prompt_tokens","completion_tokens","cached_tokens",
//    "cancelled"?,"anomalies"?,"request_body"?,"response_body"?,"response_body_truncated"?}
// "anomalies" lists what AnomalyDetector flags for the request's credential (service and key id,
// or client address without a key) in its minute: ["request_rate"], ["error_rate"]; each new flag
// is also logged as a warning.
// The key id names the credential, never the key. For the services listed in body_services the
// request and response bodies are recorded too, after PII masking (pii_masker.h; a streamed
// response as its server-sent events). The file is rotated by size:
// "audit.jsonl" becomes "audit.1.jsonl", and so on up to max_files; nothing is rewritten in place.
// Every record is flushed to the file before on_exchange_end returns.
//
// Thread safety: on_exchange_end may run on any number of threads at once.
#pragma once

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/audit/anomaly_detector.h"
#include "server/audit/pii_masker.h"
#include "server/http/exchange_observer.h"

namespace spdlog {
class logger;
}

namespace inferd::server {

struct AuditLogOptions {
  std::string path = {};  // e.g. "/var/log/inferd/audit.jsonl"
  size_t max_bytes = size_t{64} << 20;
  size_t max_files = 20;
  // Services whose request bodies are logged (masked); "*" = every service. The anonymous
  // caller counts as service "default".
  std::vector<std::string> body_services = {};
  PiiMaskerOptions masking = {};
  AnomalyOptions anomalies = {};
};

class AuditLog : public ExchangeObserver {
 public:
  // Errors: a file that cannot be opened, bad masking options.
  static Result<std::shared_ptr<AuditLog>> create(AuditLogOptions options);
  ~AuditLog() override;

  void on_exchange_end(const ExchangeRecord& record) override;
  // Whether the request's bodies are recorded (its caller's service is in body_services): the
  // server captures its response body for the record (HttpServerOptions::capture_response_body).
  bool records_bodies_of(const Request& request) const;

 private:
  AuditLog() = default;
  bool logs_body_of(const std::string& service) const;

  AuditLogOptions options_;
  std::unique_ptr<PiiMasker> masker_;
  std::unique_ptr<AnomalyDetector> anomalies_;
  std::shared_ptr<spdlog::logger> out_;
};

struct AuditFilter {
  std::string service = {};  // empty: every service
  std::string since = {};   // ISO-8601 UTC prefix such as "2026-11-29" or "2026-11-29T04:00"; empty: all
  std::string until = {};  // records strictly before it; empty: no end
};

// Writes the records of the audit log at `path` and its rotated files that pass `filter`, oldest
// first, one JSON line each, and returns how many. Errors: a malformed since/until, no log at
// `path`. Lines that are not JSON records (a torn last line) are skipped.
Result<int64_t> export_audit_records(const std::string& path, const AuditFilter& filter, std::ostream& out);

}  // namespace inferd::server
