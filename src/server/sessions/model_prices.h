// Model prices for session cost estimates, as written in the configuration:
// "MODEL=PROMPT,COMPLETION[,CACHED]" in US dollars per million tokens (cached prompt tokens cost
// PROMPT when CACHED is not given).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/sessions/session_options.h"

namespace inferd::server::sessions {

// Adds each spec to `prices`. Errors name the spec that is malformed.
Status parse_model_prices(const std::vector<std::string>& specs, std::map<std::string, ModelPrice>* prices);

}  // namespace inferd::server::sessions
