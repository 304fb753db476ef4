// A configured model's request defaults applied to a request body, and the name a response
// gives for the model that answered.
#pragma once

#include <string>
#include <string_view>

#include "server/api/json_body.h"
#include "server/registry/model_router.h"
#include "server/served_model.h"

namespace inferd::server::openai {

// `body` with the model's request_defaults() set where the body leaves them out and, for chat
// (`messages` present), its system_prompt() as the first message when no message is a system one.
Json with_model_defaults(Json body, const ServedModel& model);

// The response's "model": the name the client sent, or the answering model's id when it sent
// none or when a fallback answered.
std::string response_model_name(const RoutedModel& routed, std::string_view requested);

}  // namespace inferd::server::openai
