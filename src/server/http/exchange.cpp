#include "server/http/exchange.h"

#include <exception>

#include "base/log.h"

namespace inferd::server {
namespace {

// Fields the transport owns: it frames the body and manages the connection.
constexpr std::string_view kTransportFields[] = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
};

Status validate_headers(const HeaderList& headers, bool allow_content_type) {
  for (const auto& [name, value] : headers) {
    if (!is_valid_header_name(name)) return invalid_argument("invalid header name '{}'", name);
    if (!is_valid_header_value(value)) return invalid_argument("invalid value for header {}", name);
    for (std::string_view field : kTransportFields) {
      if (iequals(name, field)) return invalid_argument("header {} is set by the transport", name);
    }
    if (!allow_content_type && iequals(name, "content-type")) {
      return invalid_argument("Content-Type is passed as respond()'s content_type");
    }
  }
  return Status::ok_status();
}

bool body_forbidden(int status) {
  return status == 204 || status == 304;
}

}  // namespace

void run_cancel_callbacks(std::vector<std::function<void()>>& callbacks) {
  for (auto& cb : callbacks) {
    try {
      cb();
    } catch (const std::exception& e) {
      spdlog::warn("http: cancel callback threw: {}", e.what());
    } catch (...) {
      spdlog::warn("http: cancel callback threw");
    }
  }
}

const char* cancel_reason_name(CancelReason reason) {
  switch (reason) {
    case CancelReason::kNone: return "none";
    case CancelReason::kClientDisconnected: return "client disconnected";
    case CancelReason::kServerStopping: return "server stopping";
    case CancelReason::kSlowClient: return "client too slow";
    case CancelReason::kConnectionError: return "connection error";
  }
  return "unknown";
}

Exchange::Exchange(Request request) : request_(std::move(request)) {}
Exchange::~Exchange() = default;

Status Exchange::check_open_locked(const char* what) const {
  if (state_ == State::kCancelled) {
    return io_error("{}: request cancelled ({})", what, cancel_reason_name(cancel_reason_));
  }
  if (abort_requested_) return io_error("{}: request is being cancelled", what);
  return Status::ok_status();
}

void Exchange::complete_locked(std::vector<std::function<void()>>* released) {
  state_ = State::kDone;
  released->swap(callbacks_);
  on_terminal_locked();
}

Status Exchange::respond(int status, std::string_view content_type, std::string body,
                         HeaderList headers) {
  if (status < 200 || status > 599)
    return invalid_argument("respond: status {} out of range", status);
  if (body_forbidden(status) && !body.empty()) {
    return invalid_argument("respond: status {} takes no body", status);
  }
  if (!content_type.empty() && !is_valid_header_value(content_type)) {
    return invalid_argument("respond: invalid content type");
  }
  INFERD_RETURN_IF_ERROR(validate_headers(headers, /*allow_content_type=*/false));
  std::vector<std::function<void()>> released;
  {
    std::lock_guard<std::mutex> lock(mu_);
    INFERD_RETURN_IF_ERROR(check_open_locked("respond"));
    if (state_ != State::kPending) {
      return invalid_argument("respond: a response was already started for this request");
    }
    deliver_response(status, content_type, std::move(body), headers);
    started_ = true;
    status_ = status;
    complete_locked(&released);
  }
  on_terminal();
  return Status::ok_status();
}

Status Exchange::start_stream(int status, HeaderList headers) {
  if (status < 200 || status > 599) {
    return invalid_argument("start_stream: status {} out of range", status);
  }
  if (body_forbidden(status))
    return invalid_argument("start_stream: status {} takes no body", status);
  INFERD_RETURN_IF_ERROR(validate_headers(headers, /*allow_content_type=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(check_open_locked("start_stream"));
  if (state_ != State::kPending) {
    return invalid_argument("start_stream: a response was already started for this request");
  }
  deliver_stream_start(status, headers);
  state_ = State::kStreaming;
  started_ = true;
  status_ = status;
  return Status::ok_status();
}

Status Exchange::send(std::string chunk) {
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(check_open_locked("send"));
  if (state_ != State::kStreaming) {
    return invalid_argument("{}", state_ == State::kPending ? "send: start_stream() was not called"
                                                            : "send: the response is complete");
  }
  if (chunk.empty()) return Status::ok_status();
  Status st = deliver_chunk(std::move(chunk));
  if (!st.ok()) {
    abort_requested_ = true;
    request_abort(CancelReason::kSlowClient);
  }
  return st;
}

Status Exchange::finish() {
  std::vector<std::function<void()>> released;
  {
    std::lock_guard<std::mutex> lock(mu_);
    INFERD_RETURN_IF_ERROR(check_open_locked("finish"));
    if (state_ != State::kStreaming) {
      return invalid_argument("{}", state_ == State::kPending
                                        ? "finish: start_stream() was not called"
                                        : "finish: the response is complete");
    }
    deliver_finish();
    complete_locked(&released);
  }
  on_terminal();
  return Status::ok_status();
}

void Exchange::on_cancel(std::function<void()> callback) {
  if (!callback) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kDone) return;
    if (state_ != State::kCancelled) {
      callbacks_.push_back(std::move(callback));
      return;
    }
  }
  std::vector<std::function<void()>> one;
  one.push_back(std::move(callback));
  run_cancel_callbacks(one);
}

void Exchange::cancel(CancelReason reason) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == State::kDone || state_ == State::kCancelled) return;
    state_ = State::kCancelled;
    cancel_reason_ = reason;
    callbacks.swap(callbacks_);
    on_terminal_locked();
  }
  on_terminal();
  run_cancel_callbacks(callbacks);
}

bool Exchange::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == State::kCancelled || abort_requested_;
}

CancelReason Exchange::cancel_reason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancel_reason_;
}

bool Exchange::response_started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

int Exchange::response_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void Exchange::annotate(std::string key, std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, v] : annotations_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  annotations_.emplace_back(std::move(key), std::move(value));
}

std::vector<std::pair<std::string, std::string>> Exchange::annotations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return annotations_;
}

bool Exchange::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == State::kDone;
}

}  // namespace inferd::server
