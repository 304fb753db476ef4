// SessionResult<T>: a value or the API error a session operation ends with (404 unknown or
// foreign session, 409 version conflict, 400 bad input, 503 store unavailable).
#pragma once

#include <utility>
#include <variant>

#include "server/http/error_response.h"

namespace inferd::server::sessions {

template <typename T>
class [[nodiscard]] SessionResult {
 public:
  SessionResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  SessionResult(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, ApiError> v_;
};

}  // namespace inferd::server::sessions
