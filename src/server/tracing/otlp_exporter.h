// OtlpExporter: sends finished spans to an OpenTelemetry collector over OTLP/HTTP with JSON
// bodies (POST {endpoint}/v1/traces), from a background thread, in batches.
//
// export_span() never blocks on the network: it appends to a bounded queue under a short lock
// and returns; when the queue is full the span is dropped and counted. The thread sends a batch
// when max_batch_spans are waiting or flush_interval has passed, one request at a time with
// request_timeout; a failed request drops its batch (counted) and the thread carries on.
// Only plain http:// endpoints are supported (no TLS).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "server/tracing/otlp_json.h"
#include "server/tracing/span.h"

namespace inferd::server::tracing {

struct OtlpExporterOptions {
  std::string endpoint;  // "http://host:port" or "http://host:port/prefix"; /v1/traces is appended
  size_t max_queue_spans = 4096;
  size_t max_batch_spans = 512;
  std::chrono::milliseconds flush_interval{1000};
  std::chrono::milliseconds request_timeout{5000};
  OtlpResource resource;
};

struct HttpEndpoint {
  std::string host;
  std::string port;  // "80" when the URL names none
  std::string path;  // the URL's path with "/v1/traces" appended
};
// Parses "http://host[:port][/path]". Errors: another scheme (https is not supported), no host,
// a malformed port.
Result<HttpEndpoint> parse_otlp_endpoint(std::string_view url);

struct OtlpExporterStats {
  uint64_t exported = 0;         // spans the collector accepted (2xx)
  uint64_t dropped_queue = 0;    // spans dropped because the queue was full
  uint64_t dropped_failed = 0;   // spans of batches that failed to send
  uint64_t failed_requests = 0;
};

class OtlpExporter {
 public:
  // Errors: an endpoint parse_otlp_endpoint refuses, zero sizes.
  static Result<std::unique_ptr<OtlpExporter>> create(OtlpExporterOptions options);
  // Sends what is queued (within one request_timeout per batch), then stops the thread.
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues a span; false when the queue was full (the span is dropped).
  bool export_span(SpanData span);
  // Wakes the thread to send what is queued now; returns once the queue was empty and no
  // request was in flight, or after `timeout`. For tests and shutdown.
  bool flush(std::chrono::milliseconds timeout);

  OtlpExporterStats stats() const;

 private:
  OtlpExporter(OtlpExporterOptions options, HttpEndpoint endpoint);
  void run();
  Status post(const std::string& body);

  const OtlpExporterOptions options_;
  const HttpEndpoint endpoint_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<SpanData> queue_;
  bool stopping_ = false;
  bool flush_requested_ = false;
  bool sending_ = false;
  std::atomic<uint64_t> exported_{0}, dropped_queue_{0}, dropped_failed_{0}, failed_requests_{0};
  std::thread thread_;
};

}  // namespace inferd::server::tracing
