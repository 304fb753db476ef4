#include "server/tracing/otlp_exporter.h"

#include <charconv>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "base/log.h"

namespace inferd::server::tracing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

Result<HttpEndpoint> parse_otlp_endpoint(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return invalid_argument("OTLP endpoint '{}': only http:// URLs are supported", url);
  }
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  HttpEndpoint e;
  std::string_view port = "80";
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid_argument("OTLP endpoint '{}': malformed host", url);
    e.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return invalid_argument("OTLP endpoint '{}': malformed host", url);
      port = authority.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (e.host.empty()) return invalid_argument("OTLP endpoint '{}': no host", url);
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return invalid_argument("OTLP endpoint '{}': malformed port", url);
  }
  e.port = std::string(port);
  e.path = std::string(path) + "/v1/traces";
  return e;
}

Result<std::unique_ptr<OtlpExporter>> OtlpExporter::create(OtlpExporterOptions options) {
  INFERD_ASSIGN_OR_RETURN(HttpEndpoint endpoint, parse_otlp_endpoint(options.endpoint));
  if (options.max_queue_spans == 0 || options.max_batch_spans == 0) {
    return invalid_argument("OTLP exporter: queue and batch sizes must be positive");
  }
  return std::unique_ptr<OtlpExporter>(new OtlpExporter(std::move(options), std::move(endpoint)));
}

OtlpExporter::OtlpExporter(OtlpExporterOptions options, HttpEndpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool OtlpExporter::export_span(SpanData span) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue_spans) {
      dropped_queue_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.max_batch_spans;
  }
  if (wake) wake_.notify_one();
  return true;
}

bool OtlpExporter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  flush_requested_ = true;
  wake_.notify_one();
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !sending_; });
}

OtlpExporterStats OtlpExporter::stats() const {
  OtlpExporterStats s;
  s.exported = exported_.load(std::memory_order_relaxed);
  s.dropped_queue = dropped_queue_.load(std::memory_order_relaxed);
  s.dropped_failed = dropped_failed_.load(std::memory_order_relaxed);
  s.failed_requests = failed_requests_.load(std::memory_order_relaxed);
  return s;
}

void OtlpExporter::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, options_.flush_interval, [this] {
      return stopping_ || flush_requested_ || queue_.size() >= options_.max_batch_spans;
    });
    flush_requested_ = false;
    // Send everything queued now, batch by batch (stopping: the last chance).
    while (!queue_.empty()) {
      const size_t n = std::min(queue_.size(), options_.max_batch_spans);
      std::vector<SpanData> batch;
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      sending_ = true;
      lock.unlock();
      const std::string body = encode_otlp_json(batch, options_.resource);
      const Status st = post(body);
      if (st.ok()) {
        exported_.fetch_add(n, std::memory_order_relaxed);
      } else {
        failed_requests_.fetch_add(1, std::memory_order_relaxed);
        dropped_failed_.fetch_add(n, std::memory_order_relaxed);
        spdlog::warn("tracing: {} spans not exported: {}", n, st.message());
      }
      lock.lock();
      sending_ = false;
    }
    idle_.notify_all();
    if (stopping_) return;
  }
}

Status OtlpExporter::post(const std::string& body) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  net::ip::tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (ec) return io_error("cannot resolve {}: {}", endpoint_.host, ec.message());
  http::request<http::string_body> req{http::verb::post, endpoint_.path, 11};
  req.set(http::field::host, endpoint_.host + ":" + endpoint_.port);
  req.set(http::field::user_agent, "inferd");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  // beast::tcp_stream applies its deadline to asynchronous operations only, so the exchange
  // runs asynchronously on this thread's own io_context.
  bool failed = false;
  std::string error;
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto fail = [&](const char* what, boost::system::error_code e) {
    failed = true;
    error = std::string(what) + ": " + e.message();
  };
  stream.expires_after(options_.request_timeout);
  stream.async_connect(results, [&](boost::system::error_code cec, const net::ip::tcp::endpoint&) {
    if (cec) return fail("connect", cec);
    stream.expires_after(options_.request_timeout);
    http::async_write(stream, req, [&](boost::system::error_code wec, size_t) {
      if (wec) return fail("write", wec);
      stream.expires_after(options_.request_timeout);
      http::async_read(stream, buffer, res, [&](boost::system::error_code rec, size_t) {
        if (rec) fail("read", rec);
      });
    });
  });
  ioc.run();
  stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
  if (failed) return io_error("OTLP export to {}:{}{}: {}", endpoint_.host, endpoint_.port, endpoint_.path, error);
  if (res.result_int() < 200 || res.result_int() > 299) {
    return io_error("OTLP export to {}:{}{}: HTTP {}", endpoint_.host, endpoint_.port, endpoint_.path,
                    res.result_int());
  }
  return {};
}

}  // namespace inferd::server::tracing
