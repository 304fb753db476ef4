// Request ids, sent back in the X-Request-Id header of every response.
#pragma once

#include <string>
#include <string_view>

namespace inferd::server {

// "req_" and 32 lowercase hex digits from a per-thread random generator.
std::string new_request_id();

// An incoming X-Request-Id is kept when it is 1 to 128 bytes of [A-Za-z0-9._:-].
bool is_acceptable_request_id(std::string_view id);

}  // namespace inferd::server
