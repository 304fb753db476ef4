// RecordingExchange: an in-memory Exchange for testing handlers without a socket. It records what
// the handler answers; simulate_disconnect() cancels it as a client that went away would.
// It never refuses a chunk (no send-queue limit).
//
// Thread safety: as Exchange; the accessors may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "server/http/exchange.h"

namespace inferd::server {

class RecordingExchange : public Exchange {
 public:
  explicit RecordingExchange(Request request = {});

  struct Recorded {
    int status = 0;            // 0 until a response starts
    std::string content_type;  // respond()'s argument, or the stream's Content-Type header
    HeaderList headers;
    std::string body;                 // the whole body (chunks concatenated)
    std::vector<std::string> chunks;  // each send() of a stream
    bool streamed = false;
    bool complete = false;  // respond() or finish() happened
  };
  Recorded recorded() const;

  // Waits until the response is complete or the exchange is cancelled; false on timeout.
  bool wait_done(std::chrono::milliseconds timeout) const;

  // Cancels as a client disconnect would (callbacks run on the calling thread).
  void simulate_disconnect() { cancel(CancelReason::kClientDisconnected); }

 protected:
  void deliver_response(int status, std::string_view content_type, std::string body,
                        const HeaderList& headers) override;
  void deliver_stream_start(int status, const HeaderList& headers) override;
  Status deliver_chunk(std::string chunk) override;
  void deliver_finish() override;
  void request_abort(CancelReason reason) override {}
  void on_terminal_locked() override;

 private:
  mutable std::mutex rec_mu_;
  mutable std::condition_variable rec_cv_;
  Recorded rec_;
  bool done_ = false;  // complete or cancelled
};

}  // namespace inferd::server
