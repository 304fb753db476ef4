#include "server/telemetry/model_telemetry.h"

#include "server/telemetry/telemetry.h"

namespace inferd::server {

ModelTelemetry::Series::Series(Telemetry& owner, const std::string& service, const std::string& model_id)
    : ttft_(owner.registry()
                .histogram("inferd_time_to_first_token_seconds",
                           "Seconds from a request's arrival to its first generated token.", {"service", "model"},
                           first_token_buckets())
                .with({service, model_id})),
      itl_(owner.registry()
               .histogram("inferd_inter_token_latency_seconds",
                          "Seconds between consecutive generated tokens of one generation.", {"service", "model"},
                          inter_token_buckets())
               .with({service, model_id})),
      queue_(owner.registry()
                 .histogram("inferd_queue_time_seconds",
                            "Seconds a generation waited in the model's queue before it started.",
                            {"service", "model"}, queue_time_buckets())
                 .with({service, model_id})),
      prompt_tokens_(owner.registry()
                         .counter("inferd_prompt_tokens_total", "Prompt tokens of finished generations.",
                                  {"service", "model"})
                         .with({service, model_id})),
      generated_tokens_(owner.registry()
                            .counter("inferd_generation_tokens_total", "Tokens generated.", {"service", "model"})
                            .with({service, model_id})),
      cached_tokens_(owner.registry()
                         .counter("inferd_cached_tokens_total",
                                  "Prompt tokens served from the KV cache instead of being computed.",
                                  {"service", "model"})
                         .with({service, model_id})) {}

void ModelTelemetry::Series::add_tokens(int64_t prompt, int64_t generated, int64_t cached) {
  if (prompt > 0) prompt_tokens_.inc(static_cast<double>(prompt));
  if (generated > 0) generated_tokens_.inc(static_cast<double>(generated));
  if (cached > 0) cached_tokens_.inc(static_cast<double>(cached));
}

ModelTelemetry::ModelTelemetry(Telemetry& owner, std::string model_id)
    : owner_(owner), model_id_(std::move(model_id)) {
  for_service("");  // the default service's series are exported from the start
}

ModelTelemetry::Series& ModelTelemetry::for_service(std::string_view service) {
  const std::string_view name = service.empty() ? kDefaultService : service;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(name);
  if (it == series_.end())
    it = series_.emplace(std::string(name), std::make_unique<Series>(owner_, std::string(name), model_id_)).first;
  return *it->second;
}

bool ModelTelemetry::tracing() const { return owner_.tracing(); }

void ModelTelemetry::export_span(tracing::SpanData span) { owner_.export_span(std::move(span)); }

}  // namespace inferd::server
