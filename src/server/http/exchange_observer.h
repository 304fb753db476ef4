// ExchangeObserver: told once about every request the transport answered or abandoned, for
// access logs, metrics and traces. The transport knows nothing of what an observer does.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "server/http/exchange.h"
#include "server/http/request.h"

namespace inferd::server {

struct ExchangeRecord {
  explicit ExchangeRecord(const Request& r) : request(r) {}

  // The request. For answers the transport gave itself (400 malformed, 404, 405, 408, 413, 431,
  // OPTIONS) route_pattern is empty, and method and path may be empty when the request line was
  // never read.
  const Request& request;
  int status = 0;  // status of the response sent or started; 0: cancelled before any response
  CancelReason cancel_reason = CancelReason::kNone;  // kNone: the response completed
  std::chrono::steady_clock::time_point finished_at{};
  // What the handler noted about the request (Exchange::annotate), in order.
  std::vector<std::pair<std::string, std::string>> annotations;
  // The response body (a stream's chunks joined) when HttpServerOptions::capture_response_body
  // asked for it, cut at max_captured_body_bytes.
  std::string response_body;
  bool response_body_truncated = false;

  const std::string* annotation(std::string_view key) const {
    for (const auto& [k, v] : annotations)
      if (k == key) return &v;
    return nullptr;
  }
};

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // Called once per request on the thread that completed or cancelled it (an I/O thread or a
  // handler's); must be quick, must not block and must not throw.
  virtual void on_exchange_end(const ExchangeRecord& record) = 0;
};

}  // namespace inferd::server
