// ConnectionExchange: the Exchange of one request on a Connection (internal to the transport).
// It formats response bytes on the calling thread and posts them to the connection's strand.
// It tells the server's observer about the request when it ends.
// It holds the connection until the exchange completes or is cancelled, then lets it go, so an
// exchange kept by a handler after that never touches the connection again.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "server/http/exchange.h"
#include "server/http/exchange_observer.h"

namespace inferd::server {

class Connection;

class ConnectionExchange : public Exchange {
 public:
  struct Framing {
    bool head_only = false;             // HEAD: the body is not sent
    bool http10 = false;                // no chunked encoding; streams end by closing
    bool keep_alive_requested = false;  // the request allows another one on the connection
    uint64_t capture_body_bytes = 0;    // the observer gets up to this many response body bytes
    std::string_view security_fields;   // ServerContext::security_fields (outlives the exchange)
    std::string cors_fields;            // CorsPolicy::response_fields of the request's Origin
  };

  // `observer` (may be null) hears of the exchange once, when it completes, is cancelled or is
  // dropped unanswered.
  ConnectionExchange(Request request, std::shared_ptr<Connection> connection, Framing framing,
                     std::shared_ptr<ExchangeObserver> observer);
  ~ConnectionExchange() override;

  // For the connection, on its strand.
  void transport_cancel(CancelReason reason) { cancel(reason); }

 protected:
  void deliver_response(int status, std::string_view content_type, std::string body,
                        const HeaderList& headers) override;
  void deliver_stream_start(int status, const HeaderList& headers) override;
  Status deliver_chunk(std::string chunk) override;
  void deliver_finish() override;
  void request_abort(CancelReason reason) override;
  void on_terminal_locked() override;
  void on_terminal() override;

 private:
  void capture(std::string_view body);

  std::shared_ptr<Connection> connection_;  // null once complete or cancelled
  std::string captured_body_;  // framing_.capture_body_bytes at most
  bool captured_truncated_ = false;
  const Framing framing_;
  const std::shared_ptr<ExchangeObserver> observer_;
  const std::string traceparent_;
  bool chunked_ = false;            // the stream uses chunked transfer encoding
  bool stream_keep_alive_ = false;  // the stream's head allowed keep-alive
};

}  // namespace inferd::server
