// Connection: one accepted TCP connection of an HttpServer (internal to the transport), plain
// or TLS (HttpStream), on the API port or the plain-HTTP redirect port (ConnectionRole).
//
// Life cycle, all on the connection's strand:
//   [TLS handshake (header_timeout); a failure closes] -> idle (keep-alive wait, idle_timeout) ->
//   header (header_timeout) -> [100 Continue] -> body (body_timeout) -> handling (the handler's
//   exchange answers; the socket is watched for a disconnect) -> back to idle, or closing (a short
//   drain after an error answer so the client reads it) -> closed.
// Every write carries write_timeout. Closing cancels the exchange in progress.
//
// Thread safety: the post_* methods and queued_bytes() may be called from any thread; everything
// else runs on the strand.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http/error_response.h"
#include "server/http/exchange.h"
#include "server/http/http_server.h"
#include "server/http/http_stream.h"
#include "server/http/router.h"
#include "server/http/server_context.h"

namespace inferd::server {

class ConnectionExchange;

enum class ConnectionRole : uint8_t {
  kApi,       // routes requests
  kRedirect,  // answers every request with a redirect to https (https_redirect.h)
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `tls` null: plain TCP; otherwise the TLS context of the handshake.
  Connection(std::shared_ptr<ServerContext> context, boost::asio::ip::tcp::socket socket,
             std::shared_ptr<TlsContext> tls, ConnectionRole role, uint64_t id);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  uint64_t id() const { return id_; }
  const HttpServerOptions& options() const;
  bool stopping() const;
  // Bytes handed to the connection and not yet written.
  uint64_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }

  // Any thread.
  void post_start();
  void post_begin_shutdown();  // close when idle; close after the response in progress
  void post_force_close();     // cancel the exchange in progress and close now
  // From the exchange: bytes of the response; response_end marks its last bytes.
  void post_deliver(std::string bytes, bool response_end, bool keep_alive);
  void post_abort(CancelReason reason);
  // The exchange was dropped unfinished: runs its cancel callbacks, then answers 500 or closes.
  void post_exchange_abandoned(bool stream_started, std::vector<std::function<void()>> callbacks);

 private:
  enum class Phase : uint8_t { kHandshake, kIdle, kHeader, kBody, kHandling, kClosing, kClosed };

  void start();
  void on_handshake(boost::system::error_code ec);
  void prepare_next_request();
  void background_read();
  void on_background_read(boost::system::error_code ec, size_t bytes);
  void read_header();
  void read_header_some();
  void on_header(boost::system::error_code ec);
  void write_continue();
  void read_body();
  void on_body(boost::system::error_code ec);
  void on_read_error(boost::system::error_code ec);
  void dispatch();
  void respond_redirect(const Request& req, bool keep_alive);
  // OPTIONS with Origin and Access-Control-Request-Method; `allow`: the path's methods.
  void respond_preflight(const Request& req, const std::string& allow, bool keep_alive);
  void invoke_handler(const Handler& handler, const std::shared_ptr<ConnectionExchange>& exchange);

  // A response written by the transport itself (errors, OPTIONS).
  // `observe`: tell the server's observer (false when an exchange already did).
  void respond_direct(int status, std::string_view content_type, std::string body,
                      HeaderList headers, bool keep_alive, bool observe = true);
  void respond_error(const ApiError& error, bool keep_alive, HeaderList extra = {},
                     bool observe = true);
  void observe_direct(int status);

  void deliver(std::string bytes, bool response_end, bool keep_alive);
  void maybe_write();
  void on_write(boost::system::error_code ec);
  void on_response_complete();
  void exchange_abandoned(bool stream_started, std::vector<std::function<void()>>& callbacks);

  void begin_shutdown();
  // Writes what is queued, then closes (a stream cut short keeps the bytes already sent).
  void close_after_flush(CancelReason reason);
  void linger_then_close();
  void close(CancelReason reason);

  void arm_read_timer(std::chrono::milliseconds timeout);
  void disarm_read_timer();
  void on_read_timeout();
  void arm_write_timer();
  void disarm_write_timer();

  const std::shared_ptr<ServerContext> context_;
  // Declared before the socket and timers, so destroyed after them: the server keeps its I/O
  // context alive until every connection object, wherever its last owner drops it, is gone.
  ServerContext::LiveConnection live_;
  HttpStream stream_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  const ConnectionRole role_;
  const uint64_t id_;
  std::string peer_address_;
  uint16_t peer_port_ = 0;
  TlsPeerInfo tls_peer_;  // set by the handshake

  Phase phase_ = Phase::kIdle;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool background_read_pending_ = false;
  uint64_t read_generation_ = 0;
  uint64_t write_generation_ = 0;
  bool read_timed_out_ = false;
  uint64_t header_bytes_ = 0;  // bytes of the current header parsed so far
  uint64_t drained_bytes_ = 0;

  // The request being answered.
  std::string request_id_;
  std::string method_;  // empty until the header is parsed
  std::string target_;
  std::optional<tracing::TraceContext> trace_;
  std::string cors_fields_;  // CORS lines of the request's allowed Origin; empty: none
  std::chrono::steady_clock::time_point request_started_at_{};  // first byte of the header
  bool head_only_ = false;
  bool http10_ = false;
  bool unread_input_ = false;  // answered before the request was fully read: drain, then close
  std::weak_ptr<ConnectionExchange> exchange_;

  // Writing.
  std::deque<std::string> write_queue_;
  std::vector<std::string> in_flight_;
  std::vector<boost::asio::const_buffer> in_flight_buffers_;
  uint64_t in_flight_bytes_ = 0;
  bool writing_ = false;
  bool response_end_queued_ = false;
  bool response_keep_alive_ = false;
  std::optional<CancelReason> close_after_flush_;
  std::atomic<uint64_t> queued_bytes_{0};
};

}  // namespace inferd::server
