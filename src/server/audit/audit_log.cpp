#include "server/audit/audit_log.h"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

namespace inferd::server {
namespace {

using Json = nlohmann::ordered_json;
constexpr std::string_view kAnonymousService = "default";

// The wall-clock time of a steady-clock instant, as ISO-8601 UTC with milliseconds.
std::string utc_time(std::chrono::steady_clock::time_point t) {
  const auto wall = std::chrono::system_clock::now() -
                    std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - t);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

void put_number_annotation(Json& j, const ExchangeRecord& r, const char* key) {
  if (const std::string* v = r.annotation(key)) {
    try {
      j[key] = std::stoll(*v);
    } catch (const std::exception&) {
      j[key] = *v;
    }
  }
}

bool valid_time_prefix(const std::string& s) {
  static const std::regex kIso(R"(\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,3})?)?)?Z?)?)");
  return std::regex_match(s, kIso);
}

}  // namespace

AuditLog::~AuditLog() {
  if (out_) out_->flush();
}

Result<std::shared_ptr<AuditLog>> AuditLog::create(AuditLogOptions options) {
  if (options.path.empty()) return invalid_argument("the audit log needs a file path");
  if (options.max_bytes < 4096) return invalid_argument("the audit log's size limit must be at least 4096 bytes");
  if (options.max_files < 1 || options.max_files > 200000) return invalid_argument("the audit log keeps 1 to 200000 files");
  std::shared_ptr<AuditLog> log(new AuditLog());
  INFERD_ASSIGN_OR_RETURN(log->masker_, PiiMasker::create(options.masking));
  log->anomalies_ = std::make_unique<AnomalyDetector>(options.anomalies);
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(options.path, options.max_bytes, options.max_files);
    log->out_ = std::make_shared<spdlog::logger>("inferd-audit", std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return io_error("cannot open the audit log {}: {}", options.path, e.what());
  }
  log->out_->set_pattern("%v");
  log->out_->set_level(spdlog::level::info);
  log->out_->flush_on(spdlog::level::info);
  log->options_ = std::move(options);
  return log;
}

bool AuditLog::records_bodies_of(const Request& request) const {
  return logs_body_of(request.caller.service.empty() ? std::string(kAnonymousService) : request.caller.service);
}

bool AuditLog::logs_body_of(const std::string& service) const {
  return std::any_of(options_.body_services.begin(), options_.body_services.end(),
                     [&](const std::string& s) { return s == "*" || s == service; });
}

void AuditLog::on_exchange_end(const ExchangeRecord& r) {
  const Request& req = r.request;
  const std::string service = req.caller.service.empty() ? std::string(kAnonymousService) : req.caller.service;
  Json j;
  j["time"] = utc_time(req.received_at);
  j["request_id"] = req.request_id;
  j["service"] = service;
  j["key_id"] = req.caller.key_id;
  j["client"] = req.client_address;
  j["method"] = req.method;
  j["path"] = req.path;
  j["route"] = req.route_pattern;
  if (const std::string* model = r.annotation("model")) j["model"] = *model;
  j["status"] = r.status != 0 ? r.status : 499;
  j["latency_ms"] = std::round(std::chrono::duration<double, std::milli>(r.finished_at - req.received_at).count() * 1000) / 1000;
  for (const char* key : {"prompt_tokens", "completion_tokens", "cached_tokens"}) put_number_annotation(j, r, key);
  if (r.cancel_reason != CancelReason::kNone) j["cancelled"] = cancel_reason_name(r.cancel_reason);
  const std::string credential = service + "/" + (req.caller.key_id.empty() ? req.client_address : req.caller.key_id);
  const int64_t minute = std::chrono::duration_cast<std::chrono::minutes>(r.finished_at.time_since_epoch()).count();
  const AnomalyDetector::Flags flags = anomalies_->record(credential, r.status >= 400 || r.status == 0, minute);
  if (!flags.kinds.empty()) {
    j["anomalies"] = flags.kinds;
    if (flags.new_this_minute)
      spdlog::warn("audit: unusual traffic from {}: {} (far above its own baseline)", credential, fmt::join(flags.kinds, ", "));
  }
  if (logs_body_of(service)) {
    if (!req.body.empty()) j["request_body"] = masker_->mask(req.body);
    if (!r.response_body.empty()) j["response_body"] = masker_->mask(r.response_body);
    if (r.response_body_truncated) j["response_body_truncated"] = true;
  }
  out_->info(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

Result<int64_t> export_audit_records(const std::string& path, const AuditFilter& filter, std::ostream& out) {
  for (const std::string* t : {&filter.since, &filter.until})
    if (!t->empty() && !valid_time_prefix(*t))
      return invalid_argument("'{}' is not an ISO-8601 UTC time such as 2026-11-29 or 2026-11-29T04:00:00Z", *t);
  // Rotated files hold older records: the highest index is the oldest.
  std::vector<std::string> files;
  for (size_t i = 1;; ++i) {
    const std::string rotated = spdlog::sinks::rotating_file_sink_mt::calc_filename(path, i);
    if (!std::filesystem::exists(rotated)) break;
    files.insert(files.begin(), rotated);
  }
  if (!std::filesystem::exists(path) && files.empty()) return not_found("no audit log at {}", path);
  files.push_back(path);
  // Records end their time with 'Z'; a bound is compared as a prefix, without its own 'Z'.
  const auto bound = [](std::string t) {
    if (!t.empty() && t.back() == 'Z') t.pop_back();
    return t;
  };
  const std::string since = bound(filter.since), until = bound(filter.until);
  int64_t n = 0;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::string line;
    while (std::getline(in, line)) {
      const Json j = Json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("time") || !j["time"].is_string()) continue;
      const std::string time = j["time"].get<std::string>();
      if (!filter.service.empty() && j.value("service", "") != filter.service) continue;
      if (!since.empty() && time.compare(0, since.size(), since) < 0) continue;
      if (!until.empty() && time.compare(0, until.size(), until) >= 0) continue;
      out << line << '\n';
      ++n;
    }
  }
  return n;
}

}  // namespace inferd::server
