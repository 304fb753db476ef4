// ApiError: an error in the OpenAI envelope {"error":{"message","type","param","code"}}.
//
// The type follows the status (error_type_for_status) unless set: 400, 404, 405, 408, 413 and
// other 4xx invalid_request_error (OpenAI answers unknown URLs and unknown models with 404
// invalid_request_error), 401 authentication_error, 403 permission_error, 429 rate_limit_error,
// 5xx server_error. 429 and 503 carry Retry-After when retry_after_s is set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/http/header_map.h"

namespace inferd::server {

class Exchange;

inline constexpr std::string_view kJsonContentType = "application/json";
// The message of a 500: the cause goes to the log, not to the client.
inline constexpr std::string_view kInternalErrorMessage =
    "The server had an error while processing your request.";

struct ApiError {
  int status = 500;
  std::string message;
  std::string type;                  // empty: error_type_for_status(status)
  std::optional<std::string> param;  // the offending field, e.g. "messages[0].content"
  std::optional<std::string> code;   // e.g. "model_not_found"
  std::optional<int> retry_after_s;  // sent as Retry-After
  HeaderList headers{};              // further fields, e.g. X-RateLimit-Limit on a 429
};

std::string_view error_type_for_status(int status);

// {"error":{"message":...,"type":...,"param":...|null,"code":...|null}}
std::string error_json(const ApiError& error);
// Retry-After when set, then error.headers.
HeaderList error_headers(const ApiError& error);
// Answers the exchange with the envelope (application/json).
Status respond_error(Exchange& exchange, const ApiError& error);

// The answer to a Status from the layers below (must not be ok): kInvalidArgument, kOutOfRange
// and kUnsupported -> 400, kNotFound -> 404, kResourceExhausted -> 503, others -> 500. The
// Status's field becomes "param". A 500 carries a generic message (the cause is for the log).
ApiError api_error_from_status(const Status& status);

ApiError invalid_request_error(std::string message, std::optional<std::string> param = {},
                               std::optional<std::string> code = {});
ApiError authentication_error(std::string message);
ApiError permission_error(std::string message);
ApiError not_found_error(std::string message, std::optional<std::string> code = {});
ApiError unknown_url_error(std::string_view method, std::string_view path);
ApiError method_not_allowed_error(std::string_view method, std::string_view path);
ApiError payload_too_large_error(uint64_t limit_bytes);
ApiError rate_limit_error(std::string message, int retry_after_s);
ApiError server_error(std::string message);
ApiError overloaded_error(std::string message, int retry_after_s);

}  // namespace inferd::server
