#include "server/http/recording_exchange.h"

namespace inferd::server {

RecordingExchange::RecordingExchange(Request request) : Exchange(std::move(request)) {}

RecordingExchange::Recorded RecordingExchange::recorded() const {
  std::lock_guard<std::mutex> lock(rec_mu_);
  return rec_;
}

bool RecordingExchange::wait_done(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(rec_mu_);
  return rec_cv_.wait_for(lock, timeout, [this] { return done_; });
}

void RecordingExchange::deliver_response(int status, std::string_view content_type,
                                         std::string body, const HeaderList& headers) {
  std::lock_guard<std::mutex> lock(rec_mu_);
  rec_.status = status;
  rec_.content_type = std::string(content_type);
  rec_.headers = headers;
  rec_.body = std::move(body);
  rec_.complete = true;
}

void RecordingExchange::deliver_stream_start(int status, const HeaderList& headers) {
  std::lock_guard<std::mutex> lock(rec_mu_);
  rec_.status = status;
  rec_.headers = headers;
  rec_.streamed = true;
  rec_.content_type = "text/event-stream";
  for (const auto& [name, value] : headers) {
    if (iequals(name, "content-type")) rec_.content_type = value;
  }
}

Status RecordingExchange::deliver_chunk(std::string chunk) {
  std::lock_guard<std::mutex> lock(rec_mu_);
  rec_.body += chunk;
  rec_.chunks.push_back(std::move(chunk));
  return Status::ok_status();
}

void RecordingExchange::deliver_finish() {
  std::lock_guard<std::mutex> lock(rec_mu_);
  rec_.complete = true;
}

void RecordingExchange::on_terminal_locked() {
  std::lock_guard<std::mutex> lock(rec_mu_);
  done_ = true;
  rec_cv_.notify_all();
}

}  // namespace inferd::server
