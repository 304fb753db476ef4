#include "server/http/connection_exchange.h"

#include "server/http/connection.h"
#include "server/http/response_head.h"

namespace inferd::server {

ConnectionExchange::ConnectionExchange(Request request, std::shared_ptr<Connection> connection,
                                       Framing framing, std::shared_ptr<ExchangeObserver> observer)
    : Exchange(std::move(request)),
      connection_(std::move(connection)),
      framing_(framing),
      observer_(std::move(observer)),
      traceparent_(this->request().trace.traceparent()) {}

ConnectionExchange::~ConnectionExchange() {
  // No other reference remains, so the state can be read without the lock.
  if (!connection_) return;
  const bool stream_started = state_unlocked() == State::kStreaming;
  if (observer_) {
    // The connection answers 500 (or cuts the stream short) for the handler.
    ExchangeRecord record(request());
    record.status = stream_started ? response_status() : 500;
    record.cancel_reason = stream_started ? CancelReason::kConnectionError : CancelReason::kNone;
    record.finished_at = std::chrono::steady_clock::now();
    record.annotations = annotations();
    observer_->on_exchange_end(record);
  }
  connection_->post_exchange_abandoned(stream_started, take_callbacks_unlocked());
}

void ConnectionExchange::deliver_response(int status, std::string_view content_type,
                                          std::string body, const HeaderList& headers) {
  const bool keep_alive = framing_.keep_alive_requested && !connection_->stopping();
  ResponseHead head;
  head.status = status;
  head.content_type = content_type;
  head.headers = &headers;
  head.caller_headers = &request().caller.response_headers;
  head.request_id = request().request_id;
  head.traceparent = traceparent_;
  head.security_fields = framing_.security_fields;
  head.cors_fields = framing_.cors_fields;
  head.framing = BodyFraming::kContentLength;
  head.content_length = body.size();
  head.keep_alive = keep_alive;
  head.http10 = framing_.http10;
  std::string bytes = format_response_head(head);
  capture(body);
  if (!framing_.head_only) bytes += body;
  connection_->post_deliver(std::move(bytes), /*response_end=*/true, keep_alive);
}

void ConnectionExchange::deliver_stream_start(int status, const HeaderList& headers) {
  chunked_ = !framing_.http10;
  stream_keep_alive_ = chunked_ && framing_.keep_alive_requested && !connection_->stopping();
  bool has_content_type = false;
  for (const auto& [name, value] : headers) has_content_type |= iequals(name, "content-type");
  ResponseHead head;
  head.status = status;
  head.content_type = has_content_type ? std::string_view() : std::string_view("text/event-stream");
  head.headers = &headers;
  head.caller_headers = &request().caller.response_headers;
  head.request_id = request().request_id;
  head.traceparent = traceparent_;
  head.security_fields = framing_.security_fields;
  head.cors_fields = framing_.cors_fields;
  head.framing = chunked_ ? BodyFraming::kChunked : BodyFraming::kUntilClose;
  head.keep_alive = stream_keep_alive_;
  head.http10 = framing_.http10;
  connection_->post_deliver(format_response_head(head), /*response_end=*/false, false);
}

Status ConnectionExchange::deliver_chunk(std::string chunk) {
  if (framing_.head_only) return Status::ok_status();
  capture(chunk);
  std::string framed;
  if (chunked_) {
    framed.reserve(chunk.size() + 12);
    append_chunk(framed, chunk);
  } else {
    framed = std::move(chunk);
  }
  const uint64_t limit = connection_->options().max_stream_queue_bytes;
  if (connection_->queued_bytes() + framed.size() > limit) {
    return resource_exhausted("send: the client is reading too slowly ({} bytes unsent)",
                              connection_->queued_bytes());
  }
  connection_->post_deliver(std::move(framed), /*response_end=*/false, false);
  return Status::ok_status();
}

void ConnectionExchange::deliver_finish() {
  std::string last;
  if (chunked_ && !framing_.head_only) last = std::string(kLastChunk);
  connection_->post_deliver(std::move(last), /*response_end=*/true, stream_keep_alive_);
}

void ConnectionExchange::request_abort(CancelReason reason) {
  connection_->post_abort(reason);
}

void ConnectionExchange::on_terminal_locked() {
  connection_.reset();
}

void ConnectionExchange::on_terminal() {
  if (!observer_) return;
  ExchangeRecord record(request());
  record.status = response_status();
  record.cancel_reason = completed() ? CancelReason::kNone : cancel_reason();
  record.finished_at = std::chrono::steady_clock::now();
  record.annotations = annotations();
  record.response_body = std::move(captured_body_);
  record.response_body_truncated = captured_truncated_;
  observer_->on_exchange_end(record);
}

void ConnectionExchange::capture(std::string_view body) {
  const uint64_t room = framing_.capture_body_bytes - captured_body_.size();
  if (body.size() > room) captured_truncated_ = true;
  captured_body_.append(body.substr(0, room));
}

}  // namespace inferd::server
