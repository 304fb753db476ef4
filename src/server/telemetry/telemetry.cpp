#include "server/telemetry/telemetry.h"

#include <charconv>

#include <fmt/format.h>

#include "base/log.h"
#include "server/metrics/process_stats.h"
#include "server/served_model.h"

namespace inferd::server {
namespace {

constexpr std::string_view kStates[] = {"loading", "ready", "failed", "unloaded"};

// The method as a label: clients may send any token as a method, so unknown ones are lumped
// together to keep the number of series bounded.
std::string_view method_label(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"};
  for (std::string_view m : kKnown)
    if (m == method) return m;
  return method.empty() ? std::string_view("none") : std::string_view("other");
}

}  // namespace

const std::vector<double>& request_duration_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,  2.5,
                                        5,     10,   20,    30,   60,  120,  300};
  return b;
}
const std::vector<double>& first_token_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3,
                                        0.5,   0.75, 1,     2.5,  5,     10,  30,   60};
  return b;
}
const std::vector<double>& inter_token_buckets() {
  static const std::vector<double> b = {0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05,
                                        0.075, 0.1,    0.15,  0.25, 0.5,   1,    2.5};
  return b;
}
const std::vector<double>& queue_time_buckets() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1,     2.5,   5,    10,    30,   60,  120};
  return b;
}

Result<std::shared_ptr<Telemetry>> Telemetry::create(TelemetryOptions options) {
  std::unique_ptr<tracing::OtlpExporter> exporter;
  if (!options.otlp_endpoint.empty()) {
    tracing::OtlpExporterOptions o;
    o.endpoint = options.otlp_endpoint;
    o.flush_interval = options.otlp_flush_interval;
    o.max_queue_spans = options.otlp_max_queue_spans;
    o.resource.service_version = options.version;
    INFERD_ASSIGN_OR_RETURN(exporter, tracing::OtlpExporter::create(std::move(o)));
  }
  std::shared_ptr<Telemetry> t(new Telemetry(std::move(options)));
  t->exporter_ = std::move(exporter);
  return t;
}

Telemetry::Telemetry() : Telemetry(TelemetryOptions{}) {}

Telemetry::Telemetry(TelemetryOptions options) : options_(std::move(options)) { register_metrics(); }

Telemetry::~Telemetry() = default;

void Telemetry::register_metrics() {
  auto& r = registry_;
  r.gauge("inferd_build_info", "Always 1; the labels name the build.", {"version"})
      .with({options_.version.empty() ? std::string_view("unknown") : std::string_view(options_.version)})
      .set(1);
  requests_ = &r.counter("inferd_requests_total", "HTTP requests answered.",
                         {"endpoint", "method", "status", "service", "model"});
  request_duration_ = &r.histogram("inferd_request_duration_seconds",
                                   "Seconds from a request's arrival to the end of its response.",
                                   {"endpoint", "method", "service", "model"}, request_duration_buckets());
  cancelled_ = &r.counter("inferd_requests_cancelled_total",
                          "Requests cancelled before their response completed, by reason.",
                          {"endpoint", "reason", "service"});
  // Registered here so that the families appear (empty) before the first generation.
  (void)r.histogram("inferd_time_to_first_token_seconds",
                    "Seconds from a request's arrival to its first generated token.", {"service", "model"},
                    first_token_buckets());
  (void)r.histogram("inferd_inter_token_latency_seconds",
                    "Seconds between consecutive generated tokens of one generation.", {"service", "model"},
                    inter_token_buckets());
  (void)r.histogram("inferd_queue_time_seconds", "Seconds a generation waited in the model's queue before it started.",
                    {"service", "model"}, queue_time_buckets());
  (void)r.counter("inferd_prompt_tokens_total", "Prompt tokens of finished generations.", {"service", "model"});
  (void)r.counter("inferd_generation_tokens_total", "Tokens generated.", {"service", "model"});
  (void)r.counter("inferd_cached_tokens_total", "Prompt tokens served from the KV cache instead of being computed.",
                  {"service", "model"});
  running_ = &r.gauge("inferd_requests_running", "Generations the model's engine is decoding now.", {"model"});
  waiting_ = &r.gauge("inferd_requests_waiting", "Generations queued for the model's engine.", {"model"});
  kv_blocks_ = &r.gauge("inferd_kv_cache_blocks",
                        "KV cache blocks of the model's pool by state: used (by running requests), cached "
                        "(reusable prefixes), free.",
                        {"model", "state"});
  prefix_queries_ = &r.counter("inferd_prefix_cache_queries_total", "KV blocks looked up in the prefix cache.", {"model"});
  prefix_hits_ = &r.counter("inferd_prefix_cache_hits_total", "KV blocks found in the prefix cache.", {"model"});
  preemptions_ = &r.counter("inferd_preemptions_total",
                            "Requests preempted (KV blocks freed, recomputed later) because the pool ran out.", {"model"});
  model_state_ = &r.gauge("inferd_model_state", "1 for the model's current state (loading, ready, failed).",
                          {"model", "state"});
  model_memory_ = &r.gauge("inferd_model_memory_bytes", "Bytes of the model's weights.", {"model"});
  model_load_ = &r.gauge("inferd_model_load_seconds", "Seconds the model took to load.", {"model"});
  fallbacks_ = &r.counter("inferd_model_fallbacks_total",
                          "Requests answered by a fallback model because the model they named could not take them.",
                          {"from", "to", "reason"});
  cpu_seconds_ = &r.counter("inferd_process_cpu_seconds_total", "User and system CPU time of the process.").with({});
  resident_bytes_ = &r.gauge("inferd_process_resident_memory_bytes", "Resident memory of the process.").with({});
  virtual_bytes_ = &r.gauge("inferd_process_virtual_memory_bytes", "Virtual memory of the process.").with({});
  open_fds_ = &r.gauge("inferd_process_open_fds", "Open file descriptors.").with({});
  max_fds_ = &r.gauge("inferd_process_max_fds", "Limit of open file descriptors.").with({});
  start_time_ = &r.gauge("inferd_process_start_time_seconds", "Start time of the process, Unix seconds.").with({});
  threads_ = &r.gauge("inferd_process_threads", "Threads of the process.").with({});
  spans_exported_ = &r.counter("inferd_trace_spans_exported_total", "Spans the OTLP collector accepted.").with({});
  spans_dropped_ = &r.counter("inferd_trace_spans_dropped_total",
                              "Spans dropped: export queue full or the export request failed.")
                        .with({});
  export_failures_ = &r.counter("inferd_trace_export_failures_total", "OTLP export requests that failed.").with({});
}

ModelTelemetry& Telemetry::model(const std::string& id) {
  std::lock_guard<std::mutex> lock(models_mu_);
  auto& slot = models_[id];
  if (!slot) slot = std::make_unique<ModelTelemetry>(*this, id);
  return *slot;
}

void Telemetry::set_model_state(const std::string& id, ModelState state) {
  for (size_t i = 0; i < std::size(kStates); ++i)
    model_state_->with({id, kStates[i]}).set(i == static_cast<size_t>(state) ? 1 : 0);
}

void Telemetry::set_model_loaded(const std::string& id, uint64_t memory_bytes, double load_seconds) {
  model_memory_->with({id}).set(static_cast<double>(memory_bytes));
  model_load_->with({id}).set(load_seconds);
}

void Telemetry::count_fallback(const std::string& from, const std::string& to, std::string_view reason) {
  fallbacks_->with({from, to, reason}).inc();
}

std::string Telemetry::scrape(std::span<const std::shared_ptr<const ServedModel>> models) {
  std::lock_guard<std::mutex> lock(scrape_mu_);
  for (const auto& m : models) {
    const EngineStats s = m->engine().stats();
    running_->with({m->id()}).set(s.running);
    waiting_->with({m->id()}).set(s.waiting);
    kv_blocks_->with({m->id(), "used"}).set(static_cast<double>(s.kv_blocks_used));
    kv_blocks_->with({m->id(), "cached"}).set(static_cast<double>(s.kv_blocks_cached));
    kv_blocks_->with({m->id(), "free"}).set(static_cast<double>(s.kv_blocks_total - s.kv_blocks_used - s.kv_blocks_cached));
    prefix_queries_->with({m->id()}).set(static_cast<double>(s.prefix_queries));
    prefix_hits_->with({m->id()}).set(static_cast<double>(s.prefix_hits));
    preemptions_->with({m->id()}).set(static_cast<double>(s.preemptions));
    model_memory_->with({m->id()}).set(static_cast<double>(m->model().info().weight_bytes));
  }
  if (auto p = metrics::read_process_stats(); p.ok()) {
    cpu_seconds_->set(p->cpu_seconds);
    resident_bytes_->set(static_cast<double>(p->resident_bytes));
    virtual_bytes_->set(static_cast<double>(p->virtual_bytes));
    open_fds_->set(static_cast<double>(p->open_fds));
    max_fds_->set(static_cast<double>(p->max_fds));
    start_time_->set(p->start_time_unix_s);
    threads_->set(static_cast<double>(p->num_threads));
  }
  if (exporter_) {
    const auto s = exporter_->stats();
    spans_exported_->set(static_cast<double>(s.exported));
    spans_dropped_->set(static_cast<double>(s.dropped_queue + s.dropped_failed));
    export_failures_->set(static_cast<double>(s.failed_requests));
  }
  return registry_.expose();
}

void Telemetry::on_exchange_end(const ExchangeRecord& record) {
  const Request& req = record.request;
  const std::string_view endpoint = req.route_pattern.empty() ? std::string_view("unmatched") : req.route_pattern;
  const std::string* model_annotation = record.annotation("model");
  const std::string_view model = model_annotation ? std::string_view(*model_annotation) : std::string_view();
  const int status = record.status != 0 ? record.status : 499;
  const std::string status_text = std::to_string(status);
  const double seconds = std::chrono::duration<double>(record.finished_at - req.received_at).count();

  const std::string_view method = method_label(req.method);
  // The caller's service (set by the access control); anonymous callers count as the default.
  const std::string service = req.caller.service.empty() ? std::string(kDefaultService) : req.caller.service;
  requests_->with({endpoint, method, status_text, service, model}).inc();
  request_duration_->with({endpoint, method, service, model}).observe(seconds);
  if (record.cancel_reason != CancelReason::kNone) {
    cancelled_->with({endpoint, cancel_reason_name(record.cancel_reason), service}).inc();
  }

  const std::string trace_id = req.trace.trace_id_hex();
  if (options_.access_log) {
    log_event(spdlog::level::info, "request",
              {{"request_id", req.request_id},
               {"method", req.method},
               {"path", req.path},
               {"status", status_text, true},
               {"duration_ms", fmt::format("{:.3f}", seconds * 1e3), true},
               {"service", service},
               {"model", std::string(model)},
               {"trace_id", trace_id},
               {"span_id", req.trace.span_id_hex()},
               {"cancelled", record.cancel_reason == CancelReason::kNone ? "" : cancel_reason_name(record.cancel_reason)}});
  }

  if (!exporter_ || !req.trace.sampled()) return;
  tracing::SpanData span;
  span.trace_id = req.trace.trace_id;
  span.span_id = req.trace.span_id;
  span.parent_span_id = req.trace.parent_span_id;
  span.name = req.route_pattern.empty() ? req.method : req.method + " " + req.route_pattern;
  span.kind = tracing::SpanKind::kServer;
  span.start_unix_ns = tracing::to_unix_ns(req.received_at);
  span.end_unix_ns = tracing::to_unix_ns(record.finished_at);
  span.set("http.request.method", req.method);
  span.set("url.path", req.path);
  if (!req.route_pattern.empty()) span.set("http.route", req.route_pattern);
  span.set("http.response.status_code", int64_t{status});
  span.set("inferd.request_id", req.request_id);
  span.set("inferd.service", service);
  if (!req.client_address.empty()) span.set("client.address", req.client_address);
  for (const auto& [key, value] : record.annotations) {
    int64_t number = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec == std::errc() && ptr == value.data() + value.size() && !value.empty()) {
      span.set("inferd." + key, number);
    } else {
      span.set("inferd." + key, value);
    }
  }
  if (record.cancel_reason != CancelReason::kNone) {
    span.status = tracing::SpanStatus::kError;
    span.status_message = std::string("cancelled: ") + cancel_reason_name(record.cancel_reason);
  } else if (status >= 500) {
    span.status = tracing::SpanStatus::kError;
  }
  exporter_->export_span(std::move(span));
}

void Telemetry::export_span(tracing::SpanData span) {
  if (exporter_) exporter_->export_span(std::move(span));
}

bool Telemetry::flush_spans(std::chrono::milliseconds timeout) {
  return exporter_ ? exporter_->flush(timeout) : true;
}

}  // namespace inferd::server
