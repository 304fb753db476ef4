// ModelTelemetry: the metric series of one served model, one set per calling service (looked up
// once per request), and the way its generations export spans. Updates are lock-free; any
// thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "server/metrics/metric.h"
#include "server/tracing/span.h"

namespace inferd::server {

class Telemetry;

class ModelTelemetry {
 public:
  // The generation series of one (service, model) pair.
  class Series {
   public:
    Series(Telemetry& owner, const std::string& service, const std::string& model_id);
    // Seconds from the request's arrival to its first generated token.
    void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
    // Seconds between consecutive tokens of one generation.
    void observe_inter_token(double seconds) { itl_.observe(seconds); }
    // Seconds a generation waited before the engine admitted it.
    void observe_queue(double seconds) { queue_.observe(seconds); }
    void add_tokens(int64_t prompt, int64_t generated, int64_t cached);

   private:
    metrics::Histogram& ttft_;
    metrics::Histogram& itl_;
    metrics::Histogram& queue_;
    metrics::Counter& prompt_tokens_;
    metrics::Counter& generated_tokens_;
    metrics::Counter& cached_tokens_;
  };

  ModelTelemetry(Telemetry& owner, std::string model_id);

  const std::string& model_id() const { return model_id_; }

  // The series of `service`'s generations ("" = the default service); it lives as long as this.
  Series& for_service(std::string_view service);

  // True when spans are exported at all (an OTLP endpoint is configured).
  bool tracing() const;
  void export_span(tracing::SpanData span);

 private:
  Telemetry& owner_;
  const std::string model_id_;
  std::mutex mu_;  // guards series_
  std::map<std::string, std::unique_ptr<Series>, std::less<>> series_;
};

}  // namespace inferd::server
