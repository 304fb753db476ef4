// Status and Result<T>: expected failures as values, used across the public API and every
// module boundary (DESIGN.md section 6.5).
// A Status is ok or carries a code and a human-readable message. Result<T> holds a T or a non-ok
// Status. Neither throws; broken invariants use INFERD_CHECK (check.h) instead.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace inferd {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is malformed
  kNotFound,          // a file, tensor, key or model does not exist
  kOutOfRange,        // an index, size or offset exceeds its bounds
  kUnsupported,       // well-formed, but a feature this build does not handle
  kDataLoss,          // a file is truncated or corrupt
  kResourceExhausted, // out of memory, context or capacity
  kIo,                // the operating system refused a file operation
  kInternal,          // an unexpected failure inside inferd
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string to_string() const;

  // Prefixes the message with context ("loading model.gguf: ...").
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    Status s(code_, context + ": " + message_);
    s.field_ = field_;
    return s;
  }

  // The input field the error is about, as a path ("messages[2].content"); empty when none.
  const std::string& field() const { return field_; }
  Status with_field(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
};

template <typename... Args>
Status make_status(StatusCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Status(code, fmt::format(f, std::forward<Args>(args)...));
}
#define INFERD_ERROR_FN(fn_name, code_name)                                        \
  template <typename... Args>                                                      \
  Status fn_name(fmt::format_string<Args...> f, Args&&... args) {                  \
    return Status(StatusCode::code_name, fmt::format(f, std::forward<Args>(args)...)); \
  }
INFERD_ERROR_FN(invalid_argument, kInvalidArgument)
INFERD_ERROR_FN(not_found, kNotFound)
INFERD_ERROR_FN(out_of_range, kOutOfRange)
INFERD_ERROR_FN(unsupported, kUnsupported)
INFERD_ERROR_FN(data_loss, kDataLoss)
INFERD_ERROR_FN(resource_exhausted, kResourceExhausted)
INFERD_ERROR_FN(io_error, kIo)
INFERD_ERROR_FN(internal_error, kInternal)
#undef INFERD_ERROR_FN

// Result<T>: a value or an error Status. Constructing from an ok Status is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace inferd

#define INFERD_CONCAT_INNER(a, b) a##b
#define INFERD_CONCAT(a, b) INFERD_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is not ok.
#define INFERD_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::inferd::Status _inferd_st = (expr);       \
    if (!_inferd_st.ok()) return _inferd_st;    \
  } while (0)

// `INFERD_ASSIGN_OR_RETURN(auto x, f());` declares x from a Result or returns its Status.
#define INFERD_ASSIGN_OR_RETURN(decl, expr) \
  INFERD_ASSIGN_OR_RETURN_IMPL(INFERD_CONCAT(_inferd_res_, __LINE__), decl, expr)
#define INFERD_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  decl = std::move(tmp).value()
