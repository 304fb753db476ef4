#include "server/http/connection.h"

#include <exception>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "base/log.h"
#include "server/http/connection_exchange.h"
#include "server/http/https_redirect.h"
#include "server/http/request_id.h"
#include "server/http/request_target.h"
#include "server/http/response_head.h"
#include "server/http/server_context.h"

namespace inferd::server {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunkBytes = 8192;
// After an error answer sent before the request was fully read, the connection drains input
// this long (or this much) so that closing does not reset the connection before the client
// has read the answer.
constexpr std::chrono::milliseconds kLingerTimeout{500};
constexpr uint64_t kMaxLingerBytes = 1u << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view to_std(boost::beast::string_view s) {
  return {s.data(), s.size()};
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() &&
         ec != http::error::partial_message && ec != http::error::end_of_stream;
}

}  // namespace

Connection::Connection(std::shared_ptr<ServerContext> context, net::ip::tcp::socket socket,
                       std::shared_ptr<TlsContext> tls, ConnectionRole role, uint64_t id)
    : context_(std::move(context)),
      live_(context_),
      stream_(std::move(socket), std::move(tls)),
      read_timer_(stream_.get_executor()),
      write_timer_(stream_.get_executor()),
      role_(role),
      id_(id) {}

Connection::~Connection() {
  if (phase_ != Phase::kClosed) context_->unregister_connection(id_);
}

const HttpServerOptions& Connection::options() const {
  return context_->options();
}
bool Connection::stopping() const {
  return context_->stopping();
}

// ---- cross-thread entry points ----

void Connection::post_start() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->start(); });
}

void Connection::post_begin_shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->begin_shutdown(); });
}

void Connection::post_force_close() {
  net::post(stream_.get_executor(),
            [self = shared_from_this()] { self->close(CancelReason::kServerStopping); });
}

void Connection::post_deliver(std::string bytes, bool response_end, bool keep_alive) {
  queued_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
  net::post(stream_.get_executor(),
            [self = shared_from_this(), bytes = std::move(bytes), response_end,
             keep_alive]() mutable { self->deliver(std::move(bytes), response_end, keep_alive); });
}

void Connection::post_abort(CancelReason reason) {
  net::post(stream_.get_executor(), [self = shared_from_this(), reason] { self->close(reason); });
}

void Connection::post_exchange_abandoned(bool stream_started,
                                         std::vector<std::function<void()>> callbacks) {
  net::post(stream_.get_executor(), [self = shared_from_this(), stream_started,
                                     callbacks = std::move(callbacks)]() mutable {
    self->exchange_abandoned(stream_started, callbacks);
  });
}

// ---- reading ----

void Connection::start() {
  error_code ec;
  stream_.socket().set_option(net::ip::tcp::no_delay(true), ec);
  const auto peer = stream_.socket().remote_endpoint(ec);
  if (!ec) {
    peer_address_ = peer.address().to_string();
    peer_port_ = peer.port();
  }
  if (stopping()) {
    close(CancelReason::kServerStopping);
    return;
  }
  if (!stream_.is_tls()) {
    prepare_next_request();
    return;
  }
  phase_ = Phase::kHandshake;
  arm_read_timer(options().header_timeout);
  stream_.async_handshake([self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

void Connection::on_handshake(error_code ec) {
  disarm_read_timer();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    // Plain HTTP on the TLS port, an old protocol version, a refused client certificate, a
    // client that gave up: nothing can be answered.
    spdlog::debug("http: connection {} from {}: TLS handshake failed: {}", id_, peer_address_,
                  ec.message());
    close(CancelReason::kClientDisconnected);
    return;
  }
  tls_peer_ = tls_peer_info(stream_.native_handle());
  prepare_next_request();
}

void Connection::prepare_next_request() {
  parser_.emplace();
  parser_->header_limit(options().max_header_bytes);
  parser_->body_limit(options().max_body_bytes);
  request_id_.clear();
  method_.clear();
  target_.clear();
  trace_.reset();
  cors_fields_.clear();
  head_only_ = false;
  http10_ = false;
  unread_input_ = false;
  if (buffer_.size() > 0) {
    read_header();
    return;
  }
  phase_ = Phase::kIdle;
  arm_read_timer(options().idle_timeout);
  if (!background_read_pending_) background_read();
}

void Connection::background_read() {
  background_read_pending_ = true;
  stream_.async_read_some(
      buffer_.prepare(kReadChunkBytes),
      [self = shared_from_this()](error_code ec, size_t n) { self->on_background_read(ec, n); });
}

void Connection::on_background_read(error_code ec, size_t bytes) {
  background_read_pending_ = false;
  if (phase_ == Phase::kClosed) return;
  if (!ec) buffer_.commit(bytes);
  switch (phase_) {
    case Phase::kIdle:
      if (ec) {
        close(CancelReason::kClientDisconnected);
        return;
      }
      disarm_read_timer();
      read_header();
      return;
    case Phase::kHandling:
      // EOF or an error while the handler runs: the client is gone. Bytes are a pipelined
      // request: they wait in buffer_ and the watch stops (a later disconnect shows as a failed
      // write).
      if (ec) close(CancelReason::kClientDisconnected);
      return;
    case Phase::kClosing:
      if (ec) {
        close(CancelReason::kClientDisconnected);
        return;
      }
      drained_bytes_ += buffer_.size();
      buffer_.consume(buffer_.size());
      if (drained_bytes_ > kMaxLingerBytes) {
        close(CancelReason::kClientDisconnected);
      } else {
        background_read();
      }
      return;
    case Phase::kHandshake:
    case Phase::kHeader:
    case Phase::kBody:
    case Phase::kClosed: return;  // no watch runs in these phases
  }
}

void Connection::read_header() {
  phase_ = Phase::kHeader;
  header_bytes_ = 0;
  request_started_at_ = std::chrono::steady_clock::now();
  arm_read_timer(options().header_timeout);
  read_header_some();
}

// The header is parsed here rather than by http::async_read_header because Beast 1.74 applies
// its header limit to the unparsed remainder only (fields parsed from earlier reads do not
// count); header_bytes_ makes max_header_bytes cover the whole header.
void Connection::read_header_some() {
  while (buffer_.size() > 0 && !parser_->is_header_done()) {
    error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    header_bytes_ += used;
    if (ec == http::error::need_more) break;
    if (ec) {
      on_header(ec);
      return;
    }
    if (used == 0) break;
  }
  if (parser_->is_header_done()) {
    on_header({});
    return;
  }
  if (header_bytes_ + buffer_.size() >= options().max_header_bytes) {
    on_header(http::error::header_limit);
    return;
  }
  stream_.async_read_some(buffer_.prepare(kReadChunkBytes), [self = shared_from_this()](
                                                                error_code ec, size_t n) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) {
      if (ec == net::error::eof) {
        ec = self->parser_->got_some() || self->buffer_.size() > 0 ? http::error::partial_message
                                                                   : http::error::end_of_stream;
      }
      self->on_header(ec);
      return;
    }
    self->buffer_.commit(n);
    self->read_header_some();
  });
}

void Connection::on_header(error_code ec) {
  disarm_read_timer();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  const auto& msg = parser_->get();
  method_ = std::string(to_std(msg.method_string()));
  target_ = std::string(to_std(msg.target()));
  if (auto it = msg.find("traceparent"); it != msg.end()) {
    trace_ = tracing::start_server_trace(to_std(it->value()));
  } else {
    trace_ = tracing::start_server_trace(std::nullopt);
  }
  http10_ = msg.version() < 11;
  head_only_ = msg.method() == http::verb::head;
  if (context_->cors().enabled()) {
    if (auto it = msg.find(http::field::origin); it != msg.end()) {
      cors_fields_ = context_->cors().response_fields(to_std(it->value()));
    }
  }
  // RFC 9112 section 6.3: a request whose Transfer-Encoding does not end in chunked has no
  // reliable length, and one with both Transfer-Encoding and Content-Length invites request
  // smuggling through proxies; both are refused.
  if (msg.count(http::field::transfer_encoding) > 0 &&
      (!parser_->chunked() || msg.count(http::field::content_length) > 0)) {
    unread_input_ = true;
    respond_error(invalid_request_error("Malformed HTTP request: unsupported Transfer-Encoding",
                                        std::nullopt, std::string("malformed_request")),
                  false);
    return;
  }
  const auto length = parser_->content_length();
  if (length && *length > options().max_body_bytes) {
    unread_input_ = true;
    respond_error(payload_too_large_error(options().max_body_bytes), false);
    return;
  }
  if (parser_->is_done()) {
    dispatch();
    return;
  }
  if (!http10_ && iequals(to_std(msg[http::field::expect]), "100-continue")) {
    write_continue();
    return;
  }
  read_body();
}

void Connection::write_continue() {
  arm_write_timer();
  writing_ = true;
  net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                   [self = shared_from_this()](error_code ec, size_t) {
                     self->writing_ = false;
                     self->disarm_write_timer();
                     if (self->phase_ == Phase::kClosed) return;
                     if (ec) {
                       self->close(CancelReason::kClientDisconnected);
                       return;
                     }
                     self->read_body();
                   });
}

void Connection::read_body() {
  phase_ = Phase::kBody;
  arm_read_timer(options().body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_body(ec); });
}

void Connection::on_body(error_code ec) {
  disarm_read_timer();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    on_read_error(ec);
    return;
  }
  dispatch();
}

void Connection::on_read_error(error_code ec) {
  if (read_timed_out_) {
    unread_input_ = true;
    respond_error({408, "Timed out reading the request", "", std::nullopt,
                   std::string("request_timeout"), std::nullopt},
                  false);
    return;
  }
  if (ec == http::error::header_limit) {
    unread_input_ = true;
    respond_error({431,
                   fmt::format("Request header is larger than the limit of {} bytes",
                               options().max_header_bytes),
                   "", std::nullopt, std::string("header_too_large"), std::nullopt},
                  false);
    return;
  }
  if (ec == http::error::body_limit) {
    unread_input_ = true;
    respond_error(payload_too_large_error(options().max_body_bytes), false);
    return;
  }
  if (is_parse_error(ec)) {
    unread_input_ = true;
    respond_error(invalid_request_error(fmt::format("Malformed HTTP request: {}", ec.message()),
                                        std::nullopt, std::string("malformed_request")),
                  false);
    return;
  }
  // EOF between requests, EOF inside one, a reset, an aborted read: nothing to answer.
  close(CancelReason::kClientDisconnected);
}

// ---- routing ----

void Connection::dispatch() {
  phase_ = Phase::kHandling;
  auto& msg = parser_->get();
  const bool keep_alive = msg.keep_alive();

  Request req;
  req.method = std::string(to_std(msg.method_string()));
  req.target = std::string(to_std(msg.target()));
  req.http_version = http10_ ? 10 : 11;
  for (const auto& field : msg) {
    req.headers.add(std::string(to_std(field.name_string())), std::string(to_std(field.value())));
  }
  req.body = std::move(msg.body());
  req.client_address = peer_address_;
  req.client_port = peer_port_;
  req.tls = stream_.is_tls();
  req.tls_server_name = tls_peer_.server_name;
  req.client_cert_subject = tls_peer_.client_cert_subject;
  const auto incoming_id = req.headers.get("x-request-id");
  req.request_id = incoming_id && is_acceptable_request_id(*incoming_id) ? std::string(*incoming_id)
                                                                         : new_request_id();
  req.received_at = std::chrono::steady_clock::now();
  req.trace = trace_ ? *trace_ : tracing::start_server_trace(std::nullopt);
  request_id_ = req.request_id;

  if (role_ == ConnectionRole::kRedirect) {
    respond_redirect(req, keep_alive);
    return;
  }
  if (req.target == "*") {
    if (req.method == "OPTIONS") {
      respond_direct(204, "", "", {}, keep_alive);
    } else {
      respond_error(invalid_request_error("Request target '*' is only valid for OPTIONS"),
                    keep_alive);
    }
    return;
  }
  auto target = parse_request_target(req.target);
  if (!target.ok()) {
    respond_error(invalid_request_error(
                      fmt::format("Malformed request target: {}", target.status().message()),
                      std::nullopt, std::string("invalid_target")),
                  keep_alive);
    return;
  }
  RouteMatch match = context_->router().match(req.method, target->segments);
  if (req.method == "OPTIONS" && match.kind != RouteMatch::Kind::kNotFound &&
      req.headers.get("origin") && req.headers.get("access-control-request-method")) {
    respond_preflight(req, match.allow, keep_alive);
    return;
  }
  switch (match.kind) {
    case RouteMatch::Kind::kNotFound:
      respond_error(unknown_url_error(req.method, target->path), keep_alive);
      return;
    case RouteMatch::Kind::kMethodNotAllowed:
      if (req.method == "OPTIONS") {
        respond_direct(204, "", "", {{"Allow", match.allow}}, keep_alive);
      } else {
        respond_error(method_not_allowed_error(req.method, target->path), keep_alive,
                      {{"Allow", match.allow}});
      }
      return;
    case RouteMatch::Kind::kFound: break;
  }

  req.path = std::move(target->path);
  req.query = std::move(target->query);
  req.path_params = std::move(match.params);
  req.route_pattern = std::move(match.pattern);
  req.auth_scope = match.route->auth_scope;
  req.rate_class = match.route->rate_class;
  if (options().authenticate) {
    auto who = options().authenticate(req);
    if (auto* refused = std::get_if<ApiError>(&who)) {
      respond_error(*refused, keep_alive);
      return;
    }
    req.caller = std::move(std::get<Caller>(who));
  }

  ConnectionExchange::Framing framing;
  framing.security_fields = context_->security_fields(stream_.is_tls());
  framing.cors_fields = cors_fields_;
  framing.head_only = head_only_;
  framing.http10 = http10_;
  framing.keep_alive_requested = keep_alive;
  if (options().capture_response_body && options().capture_response_body(req))
    framing.capture_body_bytes = options().max_captured_body_bytes;
  auto exchange = std::make_shared<ConnectionExchange>(std::move(req), shared_from_this(), framing,
                                                       options().observer);
  exchange_ = exchange;
  // Watch the socket while the handler works, so that a disconnect cancels the exchange.
  if (!background_read_pending_ && buffer_.size() == 0) background_read();
  invoke_handler(match.route->handler, exchange);
}

void Connection::respond_redirect(const Request& req, bool keep_alive) {
  const uint16_t https_port = context_->https_port();
  auto location = https_redirect_location(req.headers.get("host"), req.target, https_port);
  if (!location.ok()) {
    respond_error(invalid_request_error(std::string(location.status().message()), std::nullopt,
                                        std::string("invalid_redirect_request")),
                  keep_alive);
    return;
  }
  respond_direct(308, "", "", {{"Location", std::move(location).value()}}, keep_alive);
}

void Connection::respond_preflight(const Request& req, const std::string& allow, bool keep_alive) {
  HeaderList headers = {{"Allow", allow}};
  if (!cors_fields_.empty()) {
    cors_fields_ +=
        context_->cors().preflight_fields(allow, req.headers.get("access-control-request-headers"));
  }
  respond_direct(204, "", "", std::move(headers), keep_alive);
}

void Connection::invoke_handler(const Handler& handler,
                                const std::shared_ptr<ConnectionExchange>& exchange) {
  const char* what = nullptr;
  std::string message;
  try {
    handler(exchange->request(), exchange);
    return;
  } catch (const std::exception& e) {
    message = e.what();
    what = message.c_str();
  } catch (...) {
    what = "unknown exception";
  }
  spdlog::error("http: handler for {} {} threw: {} (request {})", exchange->request().method,
                exchange->request().route_pattern, what, exchange->request().request_id);
  if (!exchange->response_started()) {
    (void)server::respond_error(*exchange, server_error(std::string(kInternalErrorMessage)));
  } else if (!exchange->completed()) {
    close_after_flush(CancelReason::kConnectionError);
  }
}

void Connection::respond_direct(int status, std::string_view content_type, std::string body,
                                HeaderList headers, bool keep_alive, bool observe) {
  keep_alive = keep_alive && !unread_input_ && !stopping();
  if (request_id_.empty()) request_id_ = new_request_id();
  if (!trace_) trace_ = tracing::start_server_trace(std::nullopt);
  const std::string traceparent = trace_->traceparent();
  ResponseHead head;
  head.status = status;
  head.content_type = content_type;
  head.headers = &headers;
  head.request_id = request_id_;
  head.traceparent = traceparent;
  head.security_fields = context_->security_fields(stream_.is_tls());
  head.cors_fields = cors_fields_;
  head.framing = BodyFraming::kContentLength;
  head.content_length = body.size();
  head.keep_alive = keep_alive;
  head.http10 = http10_;
  std::string bytes = format_response_head(head);
  if (!head_only_) bytes += body;
  phase_ = Phase::kHandling;
  queued_bytes_.fetch_add(bytes.size(), std::memory_order_relaxed);
  deliver(std::move(bytes), /*response_end=*/true, keep_alive);
  if (observe) observe_direct(status);
}

void Connection::observe_direct(int status) {
  const auto& observer = options().observer;
  if (!observer) return;
  Request req;
  req.method = method_;
  req.target = target_;
  req.path = target_.substr(0, target_.find('?'));
  req.client_address = peer_address_;
  req.client_port = peer_port_;
  req.request_id = request_id_;
  req.http_version = http10_ ? 10 : 11;
  req.received_at = request_started_at_.time_since_epoch().count() != 0 ? request_started_at_
                                                                        : std::chrono::steady_clock::now();
  req.trace = *trace_;
  ExchangeRecord record(req);
  record.status = status;
  record.finished_at = std::chrono::steady_clock::now();
  observer->on_exchange_end(record);
}

void Connection::respond_error(const ApiError& error, bool keep_alive, HeaderList extra,
                               bool observe) {
  HeaderList headers = error_headers(error);
  for (auto& h : extra) headers.push_back(std::move(h));
  spdlog::debug("http: connection {} answers {}: {}", id_, error.status, error.message);
  respond_direct(error.status, kJsonContentType, error_json(error), std::move(headers), keep_alive,
                 observe);
}

// ---- writing ----

void Connection::deliver(std::string bytes, bool response_end, bool keep_alive) {
  if (phase_ == Phase::kClosed) {
    queued_bytes_.fetch_sub(bytes.size(), std::memory_order_relaxed);
    return;
  }
  if (!bytes.empty()) write_queue_.push_back(std::move(bytes));
  if (response_end) {
    response_end_queued_ = true;
    response_keep_alive_ = keep_alive;
  }
  maybe_write();
}

void Connection::maybe_write() {
  if (writing_ || phase_ == Phase::kClosed) return;
  if (write_queue_.empty()) {
    if (close_after_flush_) {
      close(*close_after_flush_);
    } else if (response_end_queued_) {
      on_response_complete();
    }
    return;
  }
  in_flight_.clear();
  in_flight_buffers_.clear();
  in_flight_bytes_ = 0;
  while (!write_queue_.empty()) {
    in_flight_.push_back(std::move(write_queue_.front()));
    write_queue_.pop_front();
  }
  for (const std::string& s : in_flight_) {
    in_flight_buffers_.emplace_back(s.data(), s.size());
    in_flight_bytes_ += s.size();
  }
  writing_ = true;
  arm_write_timer();
  net::async_write(stream_, in_flight_buffers_,
                   [self = shared_from_this()](error_code ec, size_t) { self->on_write(ec); });
}

void Connection::on_write(error_code ec) {
  writing_ = false;
  disarm_write_timer();
  queued_bytes_.fetch_sub(in_flight_bytes_, std::memory_order_relaxed);
  in_flight_bytes_ = 0;
  in_flight_.clear();
  in_flight_buffers_.clear();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    close(CancelReason::kClientDisconnected);
    return;
  }
  maybe_write();
}

void Connection::on_response_complete() {
  response_end_queued_ = false;
  exchange_.reset();
  if (unread_input_) {
    linger_then_close();
    return;
  }
  if (!response_keep_alive_ || stopping()) {
    close(CancelReason::kNone);
    return;
  }
  prepare_next_request();
}

void Connection::exchange_abandoned(bool stream_started,
                                    std::vector<std::function<void()>>& callbacks) {
  run_cancel_callbacks(callbacks);
  if (phase_ != Phase::kHandling) return;
  if (stream_started) {
    spdlog::warn("http: a handler dropped its stream unfinished (connection {})", id_);
    close_after_flush(CancelReason::kConnectionError);
    return;
  }
  spdlog::error("http: a handler returned without answering (request {})", request_id_);
  const bool keep_alive = parser_ && parser_->get().keep_alive();
  // The exchange told the observer when it was dropped.
  respond_error(server_error(std::string(kInternalErrorMessage)), keep_alive, {}, false);
}

// ---- closing ----

void Connection::begin_shutdown() {
  if (phase_ == Phase::kIdle || phase_ == Phase::kHandshake) close(CancelReason::kServerStopping);
  // Other phases finish their request; on_response_complete() then closes.
}

void Connection::close_after_flush(CancelReason reason) {
  if (auto exchange = exchange_.lock()) exchange->transport_cancel(reason);  // no more sends
  exchange_.reset();
  close_after_flush_ = reason;
  maybe_write();
}

void Connection::linger_then_close() {
  phase_ = Phase::kClosing;
  error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec) {
    close(CancelReason::kNone);
    return;
  }
  drained_bytes_ = 0;
  buffer_.consume(buffer_.size());
  arm_read_timer(kLingerTimeout);
  if (!background_read_pending_) background_read();
}

void Connection::close(CancelReason reason) {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (auto exchange = exchange_.lock()) {
    exchange->transport_cancel(reason == CancelReason::kNone ? CancelReason::kConnectionError
                                                             : reason);
  }
  exchange_.reset();
  disarm_read_timer();
  disarm_write_timer();
  error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
  uint64_t dropped = 0;
  for (const std::string& s : write_queue_) dropped += s.size();
  write_queue_.clear();
  queued_bytes_.fetch_sub(dropped, std::memory_order_relaxed);
  context_->unregister_connection(id_);
}

// ---- timers ----

void Connection::arm_read_timer(std::chrono::milliseconds timeout) {
  read_timed_out_ = false;
  const uint64_t generation = ++read_generation_;
  read_timer_.expires_after(timeout);
  read_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->read_generation_) return;
    self->on_read_timeout();
  });
}

void Connection::disarm_read_timer() {
  ++read_generation_;
  read_timer_.cancel();
}

void Connection::on_read_timeout() {
  read_timed_out_ = true;
  switch (phase_) {
    case Phase::kHandshake:
    case Phase::kIdle:
    case Phase::kClosing: close(CancelReason::kClientDisconnected); return;
    case Phase::kHeader:
    case Phase::kBody: {
      error_code ec;
      // The read completes with operation_aborted; on_read_error answers 408.
      stream_.socket().cancel(ec);
      return;
    }
    case Phase::kHandling:
    case Phase::kClosed: return;
  }
}

void Connection::arm_write_timer() {
  const uint64_t generation = ++write_generation_;
  write_timer_.expires_after(options().write_timeout);
  write_timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
    if (ec || generation != self->write_generation_) return;
    spdlog::debug("http: connection {} write timed out", self->id_);
    self->close(CancelReason::kSlowClient);
  });
}

void Connection::disarm_write_timer() {
  ++write_generation_;
  write_timer_.cancel();
}

}  // namespace inferd::server
