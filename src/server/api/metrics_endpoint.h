// GET /metrics: every metric of the server in the Prometheus text format 0.0.4. Public, like
// /health, so that a Prometheus server can scrape it without credentials.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server {

void handle_metrics(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server
