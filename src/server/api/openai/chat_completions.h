// POST /v1/chat/completions.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server::openai {

void handle_chat_completions(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server::openai
