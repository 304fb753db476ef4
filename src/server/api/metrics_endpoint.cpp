#include "server/api/metrics_endpoint.h"

#include "server/metrics/metric_registry.h"

namespace inferd::server {

void handle_metrics(const ApiContext& api, const Request&, std::shared_ptr<Exchange> exchange) {
  const auto models = api.models();
  std::string text = api.telemetry()->scrape(models);
  (void)exchange->respond(200, metrics::kPrometheusContentType, std::move(text));
}

}  // namespace inferd::server
