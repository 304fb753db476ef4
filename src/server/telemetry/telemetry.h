// Telemetry: the server's metrics (Prometheus, names prefixed inferd_), traces (OTLP/HTTP JSON)
// and access log. It observes every HTTP exchange (ExchangeObserver): one access-log line at
// info, the request counters and duration histogram, and the request's server span. Generation
// jobs add token and latency observations and child spans through ModelTelemetry.
//
// Labels: method is the request's (other methods than the standard ones count as "other"),
// endpoint is the matched route pattern ("/v1/chat/completions"; "unmatched" for
// answers the transport gave itself), status the HTTP status ("499" when the client left before
// any response), service "default" (one service until services are configured), model the
// served model's id ("" for requests not about one model).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "base/status.h"
#include "server/http/exchange_observer.h"
#include "server/metrics/metric_registry.h"
#include "server/telemetry/model_telemetry.h"
#include "server/tracing/otlp_exporter.h"

namespace inferd::server {

class ServedModel;

struct TelemetryOptions {
  std::string version;        // build_info and the spans' service.version
  std::string otlp_endpoint;  // "http://host:port": export spans there; empty: no export
  std::chrono::milliseconds otlp_flush_interval{1000};
  size_t otlp_max_queue_spans = 4096;
  bool access_log = true;  // one info line per request
};

enum class ModelState { kLoading, kReady, kFailed, kUnloaded };

inline constexpr std::string_view kDefaultService = "default";

class Telemetry : public ExchangeObserver {
 public:
  // Errors: an OTLP endpoint the exporter refuses.
  static Result<std::shared_ptr<Telemetry>> create(TelemetryOptions options);
  // Metrics and access log without trace export.
  Telemetry();
  ~Telemetry() override;

  metrics::MetricRegistry& registry() { return registry_; }
  // The series of model `id`, made on first use; valid while the telemetry lives.
  ModelTelemetry& model(const std::string& id);

  void set_model_state(const std::string& id, ModelState state);
  void set_model_loaded(const std::string& id, uint64_t memory_bytes, double load_seconds);

  // Samples the gauges read at scrape time (engine queues of `models`, process figures, exporter
  // counts) and returns every metric in the Prometheus text format.
  std::string scrape(std::span<const std::shared_ptr<const ServedModel>> models);
  // A request answered by model `to` because model `from` could not take it (`reason`:
  // "load_failed", "overloaded").
  void count_fallback(const std::string& from, const std::string& to, std::string_view reason);

  void on_exchange_end(const ExchangeRecord& record) override;

  bool tracing() const { return exporter_ != nullptr; }
  void export_span(tracing::SpanData span);
  // Sends queued spans now (tests, shutdown); true when nothing is left within `timeout`.
  bool flush_spans(std::chrono::milliseconds timeout);

 private:
  explicit Telemetry(TelemetryOptions options);
  void register_metrics();

  const TelemetryOptions options_;
  metrics::MetricRegistry registry_;
  std::unique_ptr<tracing::OtlpExporter> exporter_;

  metrics::CounterFamily* requests_ = nullptr;
  metrics::HistogramFamily* request_duration_ = nullptr;
  metrics::CounterFamily* cancelled_ = nullptr;
  metrics::GaugeFamily* running_ = nullptr;
  metrics::GaugeFamily* waiting_ = nullptr;
  metrics::GaugeFamily* kv_blocks_ = nullptr;
  metrics::CounterFamily* prefix_queries_ = nullptr;
  metrics::CounterFamily* prefix_hits_ = nullptr;
  metrics::CounterFamily* preemptions_ = nullptr;
  metrics::GaugeFamily* model_state_ = nullptr;
  metrics::GaugeFamily* model_memory_ = nullptr;
  metrics::GaugeFamily* model_load_ = nullptr;
  metrics::CounterFamily* fallbacks_ = nullptr;
  metrics::Counter* cpu_seconds_ = nullptr;
  metrics::Gauge* resident_bytes_ = nullptr;
  metrics::Gauge* virtual_bytes_ = nullptr;
  metrics::Gauge* open_fds_ = nullptr;
  metrics::Gauge* max_fds_ = nullptr;
  metrics::Gauge* start_time_ = nullptr;
  metrics::Gauge* threads_ = nullptr;
  metrics::Counter* spans_exported_ = nullptr;
  metrics::Counter* spans_dropped_ = nullptr;
  metrics::Counter* export_failures_ = nullptr;

  std::mutex models_mu_;
  std::map<std::string, std::unique_ptr<ModelTelemetry>> models_;
  std::mutex scrape_mu_;
};

// Bucket bounds in seconds, for LLM serving.
const std::vector<double>& request_duration_buckets();
const std::vector<double>& first_token_buckets();
const std::vector<double>& inter_token_buckets();
const std::vector<double>& queue_time_buckets();

}  // namespace inferd::server
