// ModelTelemetry: the metric series of one served model, looked up once, and the way its
// generations export spans. Updates are lock-free; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "server/metrics/metric.h"
#include "server/tracing/span.h"

namespace inferd::server {

class Telemetry;

class ModelTelemetry {
 public:
  ModelTelemetry(Telemetry& owner, std::string model_id);

  const std::string& model_id() const { return model_id_; }

  // Seconds from the request's arrival to its first generated token.
  void observe_time_to_first_token(double seconds) { ttft_.observe(seconds); }
  // Seconds between consecutive tokens of one generation.
  void observe_inter_token(double seconds) { itl_.observe(seconds); }
  // Seconds a generation waited before the engine admitted it.
  void observe_queue(double seconds) { queue_.observe(seconds); }
  void add_tokens(int64_t prompt, int64_t generated, int64_t cached);

  // True when spans are exported at all (an OTLP endpoint is configured).
  bool tracing() const;
  void export_span(tracing::SpanData span);

 private:
  Telemetry& owner_;
  const std::string model_id_;
  metrics::Histogram& ttft_;
  metrics::Histogram& itl_;
  metrics::Histogram& queue_;
  metrics::Counter& prompt_tokens_;
  metrics::Counter& generated_tokens_;
  metrics::Counter& cached_tokens_;
};

}  // namespace inferd::server
