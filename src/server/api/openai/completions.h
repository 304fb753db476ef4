// POST /v1/completions and POST /v1/embeddings.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server::openai {

void handle_completions(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_embeddings(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server::openai
