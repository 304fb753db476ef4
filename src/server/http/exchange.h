// Exchange: one request and its one response, usable from any thread.
//
// A handler receives a std::shared_ptr<Exchange> and answers in exactly one of two ways:
//   respond(status, content_type, body, headers)          a whole response, or
//   start_stream(status, headers); send(chunk)...; finish()   a streamed response
// (chunked transfer encoding for HTTP/1.1; for HTTP/1.0 the body ends when the connection
// closes). Each send() is handed to the connection at once and written as soon as the socket
// takes it, so Server-Sent Events reach the client without buffering.
//
// Misuse (a second response, send() before start_stream(), calls after finish()) returns
// kInvalidArgument and changes nothing. Calls after cancellation return kIo naming the reason.
// A send() that would grow the connection's queue of unwritten bytes past
// HttpServerOptions::max_stream_queue_bytes (a client reading too slowly) returns
// kResourceExhausted and cancels the exchange: the connection is closed. The queue counts bytes
// from send() until the socket takes them, so a producer sends as it goes (tokens, frames), not
// bursts larger than that limit.
//
// Cancellation: the exchange is cancelled when the client disconnects, the connection fails or
// falls too far behind, or the server stops before the response is complete. Callbacks registered
// with on_cancel() then run once each, in registration order, on an I/O thread; a callback
// registered after cancellation runs at once on the calling thread. Callbacks never run once the
// response is complete (respond() or finish() returned ok) and are released then. A callback must
// be quick and must not block (it runs on an I/O thread): flag the work as cancelled and return.
// A client that closes its sending side (EOF) while the handler works counts as disconnected.
//
// Dropping the last reference before the response is complete counts as a cancellation: the
// callbacks run on an I/O thread, and the client gets a 500 (or, mid-stream, the connection
// closes so that the client sees a truncated body).
//
// Thread safety: every public method may be called from any thread. Calls are ordered by an
// internal mutex; chunks from one thread arrive in the order sent.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http/header_map.h"
#include "server/http/request.h"

namespace inferd::server {

enum class CancelReason : uint8_t {
  kNone,
  kClientDisconnected,  // the peer closed or reset the connection
  kServerStopping,      // the server's shutdown deadline passed
  kSlowClient,          // the send queue overflowed or a write timed out
  kConnectionError,     // any other failure of the connection
};
const char* cancel_reason_name(CancelReason reason);

// Runs cancel callbacks in order; one that throws is logged and the others still run.
void run_cancel_callbacks(std::vector<std::function<void()>>& callbacks);

class Exchange {
 public:
  explicit Exchange(Request request);
  virtual ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  const Request& request() const { return request_; }

  // A whole response. status in [200, 599]; 204 and 304 take an empty body. `content_type` may be
  // empty (no Content-Type). `headers` may not contain framing fields (Content-Length,
  // Transfer-Encoding, Connection, Keep-Alive, Upgrade, TE, Trailer) nor Content-Type.
  Status respond(int status, std::string_view content_type, std::string body,
                 HeaderList headers = {});

  // Starts a streamed response. `headers` should name the Content-Type (default
  // "text/event-stream"); the framing fields above are refused. status in [200, 599], not 204
  // or 304.
  Status start_stream(int status, HeaderList headers = {});
  // Sends one piece of the streamed body; an empty chunk is a no-op.
  Status send(std::string chunk);
  // Ends the streamed response.
  Status finish();

  void on_cancel(std::function<void()> callback);
  // True once cancelled, or once a send() overflowed and the cancellation is under way.
  bool cancelled() const;
  CancelReason cancel_reason() const;
  // True once respond() or start_stream() succeeded.
  bool response_started() const;
  // True once respond() or finish() succeeded.
  bool completed() const;
  // The status of the response sent or started; 0 before.
  int response_status() const;

  // Notes a fact about the request for the server's observer (access log, metrics, traces):
  // "model", token counts. A key noted again keeps its latest value.
  void annotate(std::string key, std::string value);
  std::vector<std::pair<std::string, std::string>> annotations() const;

 protected:
  enum class State : uint8_t { kPending, kStreaming, kDone, kCancelled };

  // Transport hooks. Called with the exchange's mutex held, in call order, after validation;
  // an implementation only hands bytes to its transport: it may not block or call back into the
  // Exchange. deliver_chunk may refuse (queue full); the exchange then cancels itself through
  // request_abort().
  virtual void deliver_response(int status, std::string_view content_type, std::string body,
                                const HeaderList& headers) = 0;
  virtual void deliver_stream_start(int status, const HeaderList& headers) = 0;
  virtual Status deliver_chunk(std::string chunk) = 0;
  virtual void deliver_finish() = 0;
  // Asks the transport to close the connection and cancel() this exchange from its own thread.
  virtual void request_abort(CancelReason reason) = 0;
  // Called with the mutex held when the exchange reaches kDone or kCancelled.
  virtual void on_terminal_locked() {}
  // Called once right after on_terminal_locked(), without the mutex, on the same thread.
  virtual void on_terminal() {}

  // Cancels the exchange (no-op once complete or cancelled) and runs the callbacks on the
  // calling thread. For the transport, on its own thread.
  void cancel(CancelReason reason);

  // For derived destructors (no other reference remains then): the state, and the callbacks of
  // an exchange dropped before it completed, for the transport to run on its own thread.
  State state_unlocked() const { return state_; }
  std::vector<std::function<void()>> take_callbacks_unlocked() { return std::move(callbacks_); }

 private:
  Status check_open_locked(const char* what) const;
  void complete_locked(std::vector<std::function<void()>>* released);

  const Request request_;
  mutable std::mutex mu_;
  State state_ = State::kPending;
  CancelReason cancel_reason_ = CancelReason::kNone;
  bool abort_requested_ = false;  // a send overflowed; cancel() follows on the transport's thread
  bool started_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> annotations_;
  std::vector<std::function<void()>> callbacks_;
};

}  // namespace inferd::server
