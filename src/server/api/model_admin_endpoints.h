// Model management: POST /v1/models/{model}/load, POST /v1/models/{model}/unload and
// GET /v1/memory (also under the API prefix).
//
// load answers when the model is loaded with its /v1/models entry; with {"stream": true} it
// answers at once with server-sent events, one per load stage ({"object": "model.load",
// "stage", "model", "bytes", "message"}; stages "requested", then ModelRegistry's), a last
// {"stage": "done", "data": <model>} and [DONE], or an error event. unload frees the model (once
// its running requests finish) and answers its entry. memory reports the budget, the bytes in
// use and each model's share.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server {

void handle_model_load(const ApiContext& api, const Request& request,
                       std::shared_ptr<Exchange> exchange);
void handle_model_unload(const ApiContext& api, const Request& request,
                         std::shared_ptr<Exchange> exchange);
void handle_memory(const ApiContext& api, const Request& request,
                   std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server
