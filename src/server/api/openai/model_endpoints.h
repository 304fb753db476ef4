// GET /v1/models, GET /v1/models/{model}, POST /tokenize, POST /detokenize, GET /health, GET /.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/api/json_body.h"
#include "server/http/exchange.h"

namespace inferd::server::openai {

// A model in the /v1/models shape: the OpenAI fields, its registry state, memory and last use,
// and (when loaded) what the model is.
Json model_status_json(const ModelStatus& status);

void handle_list_models(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_get_model(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_tokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_detokenize(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_health(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server::openai
