// API errors about models shared by the routing and the model endpoints.
#pragma once

#include <string_view>

#include "server/http/error_response.h"

namespace inferd::server {

// 404 model_not_found (param "model") for a name no model answers to.
ApiError model_not_found_error(std::string_view name);

}  // namespace inferd::server
