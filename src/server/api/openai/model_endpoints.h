// GET /v1/models, GET /v1/models/{model}, POST /tokenize, POST /detokenize, GET /health, GET /.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server::openai {

void handle_list_models(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_get_model(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_tokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_detokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_health(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server::openai
