#include "load_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace inferd::cli {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct StreamTiming {
  bool ok = false;
  std::string error;
  double ttft_s = 0;
  std::vector<double> gaps_s;  // between consecutive token events
  int64_t tokens = 0;           // completion tokens (from the usage chunk)
};

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// One streamed completion; token events are SSE events with non-empty choices.
StreamTiming run_stream(const std::string& host, const std::string& port, const std::string& body) {
  StreamTiming t;
  try {
    net::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    stream.connect(net::ip::tcp::resolver(ioc).resolve(host, port));
    http::request<http::string_body> req{http::verb::post, "/v1/completions", 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    const auto start = Clock::now();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read_header(stream, buffer, parser);
    if (parser.get().result_int() != 200) {
      http::read(stream, buffer, parser);
      t.error = "HTTP " + std::to_string(parser.get().result_int()) + ": " + parser.get().body();
      return t;
    }
    size_t scanned = 0;
    Clock::time_point last{};
    while (!parser.is_done()) {
      http::read_some(stream, buffer, parser);
      const std::string& b = parser.get().body();
      size_t end;
      while ((end = b.find("\n\n", scanned)) != std::string::npos) {
        const std::string event = b.substr(scanned, end - scanned);
        scanned = end + 2;
        if (event.rfind("data: ", 0) != 0 || event == "data: [DONE]") continue;
        const json j = json::parse(event.substr(6), nullptr, false);
        if (!j.is_object()) continue;
        if (j.contains("usage") && j["usage"].is_object()) t.tokens = j["usage"].value("completion_tokens", int64_t{0});
        if (!j.contains("choices") || j["choices"].empty() || !j["choices"][0]["finish_reason"].is_null()) continue;
        const auto now = Clock::now();  // a text event
        if (last == Clock::time_point{}) t.ttft_s = seconds(start, now);
        else t.gaps_s.push_back(seconds(last, now));
        last = now;
      }
    }
    t.ok = true;
  } catch (const std::exception& e) {
    t.error = e.what();
  }
  return t;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

}  // namespace

int run_load_bench(const LoadBenchOptions& o) {
  std::string rest = o.server;
  if (rest.rfind("http://", 0) == 0) rest = rest.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (host.empty() || port.empty()) {
    std::fprintf(stderr, "inferd bench: --server must be http://HOST:PORT\n");
    return 2;
  }
  json request = {{"prompt", o.prompt}, {"max_tokens", o.gen_tokens}, {"stream", true},
                  {"stream_options", {{"include_usage", true}}}, {"ignore_eos", true}, {"temperature", 0}};
  if (!o.model.empty()) request["model"] = o.model;
  const std::string body = request.dump();

  // One stream first, unmeasured: the server's first request pays for page faults and warm-up.
  if (const StreamTiming warm = run_stream(host, port, body); !warm.ok) {
    std::fprintf(stderr, "inferd bench: %s: %s\n", o.server.c_str(), warm.error.c_str());
    return 1;
  }
  json levels = json::array();
  for (int c : o.concurrency) {
    std::vector<StreamTiming> results(c);
    std::vector<std::thread> clients;
    const auto start = Clock::now();
    for (int i = 0; i < c; ++i) clients.emplace_back([&, i] { results[i] = run_stream(host, port, body); });
    for (auto& t : clients) t.join();
    const double wall = seconds(start, Clock::now());
    std::vector<double> ttft, gaps;
    int64_t tokens = 0;
    for (const auto& r : results) {
      if (!r.ok) {
        std::fprintf(stderr, "inferd bench: a stream failed: %s\n", r.error.c_str());
        return 1;
      }
      ttft.push_back(r.ttft_s);
      gaps.insert(gaps.end(), r.gaps_s.begin(), r.gaps_s.end());
      tokens += r.tokens;
    }
    const json level = {{"concurrency", c},
                        {"output_tokens", tokens},
                        {"seconds", wall},
                        {"output_tokens_per_s", static_cast<double>(tokens) / wall},
                        {"ttft_p50_ms", percentile(ttft, 0.5) * 1e3},
                        {"ttft_p99_ms", percentile(ttft, 0.99) * 1e3},
                        {"itl_p50_ms", percentile(gaps, 0.5) * 1e3},
                        {"itl_p99_ms", percentile(gaps, 0.99) * 1e3}};
    levels.push_back(level);
    if (!o.json)
      std::printf("concurrency %3d: %7.1f output tokens/s  ttft p50 %7.1f ms p99 %7.1f ms  itl p50 %6.1f ms p99 %6.1f ms\n",
                  c, level["output_tokens_per_s"].get<double>(), level["ttft_p50_ms"].get<double>(),
                  level["ttft_p99_ms"].get<double>(), level["itl_p50_ms"].get<double>(),
                  level["itl_p99_ms"].get<double>());
  }
  if (o.json) std::printf("%s\n", json{{"server", o.server}, {"gen_tokens", o.gen_tokens}, {"levels", levels}}.dump(2).c_str());
  return 0;
}

}  // namespace inferd::cli
