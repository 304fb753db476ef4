#include "server/http/error_response.h"

#include <nlohmann/json.hpp>

#include "server/http/exchange.h"

namespace inferd::server {
namespace {

struct StatusType {
  int status;
  std::string_view type;
};

// Statuses whose type differs from the default of their class (4xx invalid_request_error,
// 5xx server_error).
constexpr StatusType kStatusTypes[] = {
    {401, "authentication_error"},
    {403, "permission_error"},
    {429, "rate_limit_error"},
};

struct CodeStatus {
  StatusCode code;
  int status;
};

constexpr CodeStatus kStatusForCode[] = {
    {StatusCode::kInvalidArgument, 400},   {StatusCode::kOutOfRange, 400},
    {StatusCode::kUnsupported, 400},       {StatusCode::kNotFound, 404},
    {StatusCode::kResourceExhausted, 503},
};

}  // namespace

ApiError api_error_from_status(const Status& status) {
  int http_status = 500;
  for (const CodeStatus& row : kStatusForCode) {
    if (row.code == status.code()) http_status = row.status;
  }
  ApiError error;
  error.status = http_status;
  error.message = http_status == 500 ? std::string(kInternalErrorMessage) : status.message();
  if (!status.field().empty()) error.param = status.field();
  return error;
}

std::string_view error_type_for_status(int status) {
  for (const StatusType& row : kStatusTypes) {
    if (row.status == status) return row.type;
  }
  return status >= 500 ? "server_error" : "invalid_request_error";
}

std::string error_json(const ApiError& error) {
  nlohmann::json body;
  auto& e = body["error"];
  e["message"] = error.message;
  e["type"] = error.type.empty() ? std::string(error_type_for_status(error.status)) : error.type;
  e["param"] = error.param ? nlohmann::json(*error.param) : nlohmann::json(nullptr);
  e["code"] = error.code ? nlohmann::json(*error.code) : nlohmann::json(nullptr);
  // Messages may quote client input: replace invalid UTF-8 rather than throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HeaderList error_headers(const ApiError& error) {
  HeaderList headers;
  if (error.retry_after_s)
    headers.emplace_back("Retry-After", std::to_string(*error.retry_after_s));
  headers.insert(headers.end(), error.headers.begin(), error.headers.end());
  return headers;
}

Status respond_error(Exchange& exchange, const ApiError& error) {
  return exchange.respond(error.status, kJsonContentType, error_json(error), error_headers(error));
}

ApiError invalid_request_error(std::string message, std::optional<std::string> param,
                               std::optional<std::string> code) {
  return {400, std::move(message), "", std::move(param), std::move(code), std::nullopt};
}

ApiError authentication_error(std::string message) {
  return {401, std::move(message), "", std::nullopt, std::string("invalid_api_key"), std::nullopt};
}

ApiError permission_error(std::string message) {
  return {403, std::move(message), "", std::nullopt, std::nullopt, std::nullopt};
}

ApiError not_found_error(std::string message, std::optional<std::string> code) {
  return {404, std::move(message), "", std::nullopt, std::move(code), std::nullopt};
}

ApiError unknown_url_error(std::string_view method, std::string_view path) {
  return {404,
          fmt::format("Invalid URL ({} {})", method, path),
          "",
          std::nullopt,
          std::string("unknown_url"),
          std::nullopt};
}

ApiError method_not_allowed_error(std::string_view method, std::string_view path) {
  return {405,
          fmt::format("Invalid method for URL ({} {})", method, path),
          "",
          std::nullopt,
          std::string("method_not_allowed"),
          std::nullopt};
}

ApiError payload_too_large_error(uint64_t limit_bytes) {
  return {413,
          fmt::format("Request body is larger than the limit of {} bytes", limit_bytes),
          "",
          std::nullopt,
          std::string("request_too_large"),
          std::nullopt};
}

ApiError rate_limit_error(std::string message, int retry_after_s) {
  return {429,          std::move(message), "", std::nullopt, std::string("rate_limit_exceeded"),
          retry_after_s};
}

ApiError server_error(std::string message) {
  return {500, std::move(message), "", std::nullopt, std::nullopt, std::nullopt};
}

ApiError overloaded_error(std::string message, int retry_after_s) {
  return {503,          std::move(message), "", std::nullopt, std::string("server_overloaded"),
          retry_after_s};
}

}  // namespace inferd::server
