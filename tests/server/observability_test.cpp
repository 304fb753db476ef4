// Observability over real connections on 127.0.0.1, on the llama F16 fixture model: /metrics
// after traffic, traceparent propagation, the span tree a request yields at a tiny OTLP/HTTP
// receiver, a real Prometheus server scraping the test server (skipped without the `prometheus`
// binary), and `promtool check rules` on the shipped alert rules (skipped without promtool).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <regex>

#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "server/api/api_context.h"
#include "server/http_test_support.h"
#include "testing/http_request.h"
#include "server/openai_server.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kModel = "fixtures/fixture-llama-f16.gguf";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kParentId = "00f067aa0ba902b7";

std::unique_ptr<ServedModel> load_fixture(const std::filesystem::path& path) {
  ServedModelOptions o;
  o.path = path.string();
  o.id = "llama";
  o.engine.ctx_per_slot = 256;
  o.engine.num_threads = 2;
  auto m = ServedModel::load(o);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return m.ok() ? std::move(m).value() : nullptr;
}

// The value of the sample line `series` ("name{labels}") in a Prometheus text exposition.
std::optional<double> sample(const std::string& text, const std::string& series) {
  const std::string key = series + " ";
  size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::strtod(text.c_str() + pos + key.size(), nullptr);
    pos += key.size();
  }
  return std::nullopt;
}

const json kCompletion = {
    {"model", "llama"}, {"prompt", "Hello"}, {"max_tokens", 4}, {"temperature", 0}, {"ignore_eos", true}};

class ObservabilityTest : public HttpServerFixture {
 protected:
  // Serves the fixture with `telemetry` (observer and API context).
  void serve(std::shared_ptr<Telemetry> telemetry) {
    INFERD_REQUIRE_SHARED(path, kModel);
    api_ = std::make_shared<ApiContext>();
    api_->set_telemetry(telemetry);
    std::vector<std::unique_ptr<ServedModel>> models;
    models.push_back(load_fixture(path));
    ASSERT_TRUE(models.back());
    api_->publish(std::move(models));
    auto router = make_openai_router(api_, "/api/v1");
    ASSERT_TRUE(router.ok());
    HttpServerOptions o = test_options();
    o.observer = telemetry;
    start_server(std::move(router).value(), o);
  }

  std::optional<Response> call(std::string_view method, std::string_view target, const std::string& body = "",
                               HeaderList headers = {}) {
    TestClient c(port_);
    headers.push_back({"Content-Type", "application/json"});
    return c.request(method, target, body, headers, 30000ms);
  }

  std::string scrape() {
    auto res = call("GET", "/metrics");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(field(*res, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return res->body();
  }

  // Scrapes until `series` reads `want` (the observer hears of a streamed response's end just
  // after its last bytes are handed to the connection, so a client may scrape first) or 5 s pass.
  std::string scrape_until(const std::string& series, double want) {
    std::string text;
    for (int i = 0; i < 100; ++i) {
      text = scrape();
      if (sample(text, series) == want) break;
      std::this_thread::sleep_for(50ms);
    }
    return text;
  }

  std::shared_ptr<ApiContext> api_;
};

TEST_F(ObservabilityTest, MetricsAfterTraffic) {
  serve(std::make_shared<Telemetry>());
  if (HasFatalFailure() || IsSkipped()) return;
  for (int i = 0; i < 2; ++i) {
    auto res = call("POST", "/v1/completions", kCompletion.dump());
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 200) << res->body();
  }
  json streamed = kCompletion;
  streamed["stream"] = true;
  ASSERT_EQ(call("POST", "/v1/completions", streamed.dump())->result_int(), 200);
  ASSERT_EQ(call("GET", "/no/such/path")->result_int(), 404);
  json unknown = kCompletion;
  unknown["model"] = "nope";
  ASSERT_EQ(call("POST", "/v1/completions", unknown.dump())->result_int(), 404);

  const std::string ok_series =
      "inferd_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"200\",service=\"default\","
      "model=\"llama\"}";
  // The duration is observed after the count.
  const std::string text = scrape_until(
      "inferd_request_duration_seconds_count{endpoint=\"/v1/completions\",method=\"POST\",service=\"default\","
      "model=\"llama\"}",
      3);
  EXPECT_EQ(sample(text, ok_series), 3);
  EXPECT_EQ(sample(text, "inferd_requests_total{endpoint=\"/v1/completions\",method=\"POST\",status=\"404\","
                         "service=\"default\",model=\"\"}"),
            1);
  EXPECT_EQ(sample(text, "inferd_requests_total{endpoint=\"unmatched\",method=\"GET\",status=\"404\","
                         "service=\"default\",model=\"\"}"),
            1);
  EXPECT_EQ(sample(text, "inferd_request_duration_seconds_count{endpoint=\"/v1/completions\",method=\"POST\","
                         "service=\"default\",model=\"llama\"}"),
            3);
  EXPECT_EQ(sample(text, "inferd_time_to_first_token_seconds_count{service=\"default\",model=\"llama\"}"), 3);
  EXPECT_EQ(sample(text, "inferd_time_to_first_token_seconds_bucket{service=\"default\",model=\"llama\",le=\"+Inf\"}"),
            3);
  EXPECT_EQ(sample(text, "inferd_inter_token_latency_seconds_count{service=\"default\",model=\"llama\"}"), 9);
  EXPECT_EQ(sample(text, "inferd_queue_time_seconds_count{service=\"default\",model=\"llama\"}"), 3);
  EXPECT_EQ(sample(text, "inferd_generation_tokens_total{service=\"default\",model=\"llama\"}"), 12);
  EXPECT_GT(sample(text, "inferd_prompt_tokens_total{service=\"default\",model=\"llama\"}").value_or(0), 0);
  EXPECT_EQ(sample(text, "inferd_requests_running{model=\"llama\"}"), 0);
  EXPECT_EQ(sample(text, "inferd_requests_waiting{model=\"llama\"}"), 0);
  EXPECT_EQ(sample(text, "inferd_model_state{model=\"llama\",state=\"ready\"}"), 1);
  EXPECT_GT(sample(text, "inferd_model_memory_bytes{model=\"llama\"}").value_or(0), 0);
  EXPECT_GT(sample(text, "inferd_process_resident_memory_bytes").value_or(0), 0);
  EXPECT_GT(sample(text, "inferd_process_open_fds").value_or(0), 0);
  EXPECT_TRUE(sample(text, "inferd_process_cpu_seconds_total"));
  EXPECT_EQ(sample(text, "inferd_build_info{version=\"unknown\"}"), 1);
  EXPECT_NE(text.find("# TYPE inferd_request_duration_seconds histogram\n"), std::string::npos);

  // Scrapes are counted too.
  EXPECT_GE(sample(scrape(), "inferd_requests_total{endpoint=\"/metrics\",method=\"GET\",status=\"200\","
                             "service=\"default\",model=\"\"}")
                .value_or(0),
            1);
}

TEST_F(ObservabilityTest, TraceparentIsContinuedAndEchoed) {
  serve(std::make_shared<Telemetry>());
  if (HasFatalFailure() || IsSkipped()) return;
  const std::string incoming = std::string("00-") + kTraceId + "-" + kParentId + "-01";
  auto res = call("GET", "/health", "", {{"traceparent", incoming}});
  ASSERT_TRUE(res);
  const std::string echoed = field(*res, "traceparent");
  ASSERT_EQ(echoed.size(), 55u) << echoed;
  EXPECT_EQ(echoed.substr(0, 36), std::string("00-") + kTraceId + "-");
  EXPECT_NE(echoed.substr(36, 16), kParentId);  // the server's own span
  EXPECT_EQ(echoed.substr(52), "-01");

  for (const char* bad : {"00-xyz", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}) {
    auto r = call("GET", "/health", "", {{"traceparent", bad}});
    ASSERT_TRUE(r);
    const std::string fresh = field(*r, "traceparent");
    ASSERT_EQ(fresh.size(), 55u);
    EXPECT_EQ(fresh.find(kTraceId), std::string::npos);
  }
  // Transport-level answers carry one too.
  auto missing = call("GET", "/nowhere", "", {{"traceparent", incoming}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(field(*missing, "traceparent").substr(0, 36), std::string("00-") + kTraceId + "-");
}

// A tiny OTLP/HTTP receiver: an HttpServer that keeps the bodies POSTed to /v1/traces.
class OtlpReceiver {
 public:
  OtlpReceiver() {
    Router router;
    const Status st = router.add({.method = "POST", .pattern = "/v1/traces",
                                  .handler = [this](const Request& req, std::shared_ptr<Exchange> ex) {
                                    {
                                      std::lock_guard<std::mutex> lock(mu_);
                                      bodies_.push_back(req.body);
                                      content_types_.push_back(std::string(req.header("content-type").value_or("")));
                                    }
                                    (void)ex->respond(200, "application/json", "{}");
                                  },
                                  .auth_scope = AuthScope::kPublic, .rate_class = RateClass::kUnlimited});
    EXPECT_TRUE(st.ok());
    server_ = std::make_unique<HttpServer>(test_options(), std::move(router));
    EXPECT_TRUE(server_->start().ok());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  // Every span received, from every body.
  std::vector<json> spans() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<json> out;
    for (const auto& b : bodies_) {
      const json j = json::parse(b, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << b;
      if (j.is_discarded()) continue;
      for (const auto& rs : j["resourceSpans"]) {
        EXPECT_EQ(rs["resource"]["attributes"][0]["key"], "service.name");
        EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "inferd");
        for (const auto& ss : rs["scopeSpans"])
          for (const auto& s : ss["spans"]) out.push_back(s);
      }
    }
    for (const auto& ct : content_types_) EXPECT_EQ(ct, "application/json");
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
  std::unique_ptr<HttpServer> server_;
};

std::optional<json> attribute(const json& span, const std::string& key) {
  for (const auto& a : span["attributes"])
    if (a["key"] == key) return a["value"];
  return std::nullopt;
}

TEST_F(ObservabilityTest, SpanTreeReachesAnOtlpReceiver) {
  INFERD_REQUIRE_SHARED(path, kModel);
  OtlpReceiver receiver;
  TelemetryOptions o;
  o.otlp_endpoint = receiver.url();
  o.otlp_flush_interval = 100ms;
  o.version = "test";
  auto telemetry = Telemetry::create(o);
  ASSERT_TRUE(telemetry.ok()) << telemetry.status().to_string();
  serve(*telemetry);
  if (HasFatalFailure()) return;

  json streamed = kCompletion;
  streamed["stream"] = true;
  const std::string incoming = std::string("00-") + kTraceId + "-" + kParentId + "-01";
  auto res = call("POST", "/v1/completions", streamed.dump(), {{"traceparent", incoming}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  const std::string server_span = field(*res, "traceparent").substr(36, 16);

  // The server span ends once the exchange does, just after the client has read the answer.
  std::vector<json> spans;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE((*telemetry)->flush_spans(5000ms));
    spans = receiver.spans();
    if (spans.size() >= 5) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(spans.size(), 5u);
  const json* root = nullptr;
  std::map<std::string, const json*> children;
  for (const auto& s : spans) {
    EXPECT_EQ(s["traceId"], kTraceId);
    if (s.value("parentSpanId", "") == kParentId) {
      root = &s;
    } else {
      children[s["name"].get<std::string>()] = &s;
    }
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ((*root)["spanId"], server_span);
  EXPECT_EQ((*root)["name"], "POST /v1/completions");
  EXPECT_EQ((*root)["kind"], 2);
  EXPECT_EQ(attribute(*root, "http.response.status_code"), json({{"intValue", "200"}}));
  EXPECT_EQ(attribute(*root, "http.route"), json({{"stringValue", "/v1/completions"}}));
  EXPECT_EQ(attribute(*root, "inferd.model"), json({{"stringValue", "llama"}}));
  EXPECT_EQ(attribute(*root, "inferd.completion_tokens"), json({{"intValue", "4"}}));
  EXPECT_EQ(attribute(*root, "inferd.service"), json({{"stringValue", "default"}}));
  const uint64_t root_start = std::stoull((*root)["startTimeUnixNano"].get<std::string>());
  const uint64_t root_end = std::stoull((*root)["endTimeUnixNano"].get<std::string>());
  EXPECT_LE(root_start, root_end);

  for (const char* name : {"queue", "prefill", "decode", "stream"}) {
    ASSERT_TRUE(children.count(name)) << name;
    const json& c = *children[name];
    EXPECT_EQ(c["parentSpanId"], server_span) << name;
    EXPECT_EQ(c["kind"], 1);
    EXPECT_EQ(attribute(c, "inferd.model"), json({{"stringValue", "llama"}}));
    const uint64_t start = std::stoull(c["startTimeUnixNano"].get<std::string>());
    const uint64_t end = std::stoull(c["endTimeUnixNano"].get<std::string>());
    EXPECT_LE(start, end) << name;
    EXPECT_GE(start + 1'000'000, root_start) << name;  // clock conversions may differ by a hair
    EXPECT_LE(end, root_end + 1'000'000) << name;
  }
  EXPECT_EQ(attribute(*children["decode"], "inferd.completion_tokens"), json({{"intValue", "4"}}));
  EXPECT_TRUE(attribute(*children["prefill"], "inferd.prompt_tokens"));

  // A request with sampled=00 is not exported.
  auto unsampled = call("GET", "/health", "", {{"traceparent", std::string("00-") + kTraceId + "-" + kParentId + "-00"}});
  ASSERT_TRUE(unsampled);
  ASSERT_TRUE((*telemetry)->flush_spans(5000ms));
  EXPECT_EQ(receiver.spans().size(), 5u);
}

TEST(OtlpEndpointTest, OnlyPlainHttp) {
  EXPECT_FALSE(tracing::parse_otlp_endpoint("https://collector:4318").ok());
  EXPECT_FALSE(tracing::parse_otlp_endpoint("http://:4318").ok());
  EXPECT_FALSE(tracing::parse_otlp_endpoint("http://host:99999").ok());
  auto e = tracing::parse_otlp_endpoint("http://collector:4318/prefix/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "collector");
  EXPECT_EQ(e->port, "4318");
  EXPECT_EQ(e->path, "/prefix/v1/traces");
  auto v6 = tracing::parse_otlp_endpoint("http://[::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "80");
}

TEST(OtlpExporterTest, FullQueueDropsWithoutBlocking) {
  tracing::OtlpExporterOptions o;
  o.endpoint = "http://127.0.0.1:9";  // discard port: nothing listens, sends fail
  o.max_queue_spans = 4;
  o.max_batch_spans = 100;
  o.flush_interval = 60000ms;
  o.request_timeout = 200ms;
  auto exporter = tracing::OtlpExporter::create(o);
  ASSERT_TRUE(exporter.ok());
  const auto start = std::chrono::steady_clock::now();
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += (*exporter)->export_span(tracing::SpanData{}) ? 1 : 0;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ((*exporter)->stats().dropped_queue, 96u);
  EXPECT_TRUE((*exporter)->flush(5000ms));
  EXPECT_EQ((*exporter)->stats().dropped_failed, 4u);
  EXPECT_EQ((*exporter)->stats().failed_requests, 1u);
}

// ---- a real Prometheus ----

// The full path of `program` on PATH, or empty.
std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    const std::string full = dir + "/" + program;
    if (!dir.empty() && ::access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}


std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

TEST_F(ObservabilityTest, RealPrometheusScrapesAndAnswersQueries) {
  const std::string prometheus_bin = find_program("prometheus");
  if (prometheus_bin.empty()) {
    GTEST_SKIP() << "the prometheus binary is not installed (Debian package 'prometheus'; scripts/setup.sh "
                    "installs it)";
  }
  serve(std::make_shared<Telemetry>());
  if (HasFatalFailure() || IsSkipped()) return;

  const auto dir = inferd::testing::temp_dir();
  const uint16_t prom_port = inferd::testing::free_port();
  {
    std::ofstream cfg(dir / "prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        << "scrape_configs:\n  - job_name: inferd\n    static_configs:\n      - targets: ['127.0.0.1:" << port_
        << "']\n";
  }
  inferd::testing::ChildProcess prometheus(
      {prometheus_bin, "--config.file=" + (dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir / "data").string(), "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
       "--log.level=warn"},
      (dir / "prometheus.log").string());
  ASSERT_TRUE(prometheus.started());

  auto prom_get = [&](const std::string& target) -> std::optional<Response> {
    TestClient c(prom_port);
    if (!c.connected()) return std::nullopt;
    return c.request("GET", target, "", {}, 3000ms);
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    auto r = prom_get("/-/ready");
    ready = r && r->result_int() == 200;
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << "prometheus did not become ready:\n" << prometheus.log();

  for (int i = 0; i < 3; ++i) ASSERT_EQ(call("POST", "/v1/completions", kCompletion.dump())->result_int(), 200);

  // Polls an instant query until it yields `want` (a scrape happens every second).
  auto query_until = [&](const std::string& promql, double want) -> double {
    double got = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = prom_get("/api/v1/query?query=" + url_encode(promql));
      if (r && r->result_int() == 200) {
        const json j = json::parse(r->body(), nullptr, false);
        if (!j.is_discarded() && j["status"] == "success" && !j["data"]["result"].empty()) {
          got = std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
          if (got == want) return got;
        }
      }
      std::this_thread::sleep_for(200ms);
    }
    return got;
  };
  EXPECT_EQ(query_until("sum(inferd_requests_total{job=\"inferd\",endpoint=\"/v1/completions\",status=\"200\","
                        "model=\"llama\"})",
                        3),
            3);
  EXPECT_EQ(query_until("inferd_generation_tokens_total{model=\"llama\",service=\"default\"}", 12), 12);
  EXPECT_EQ(query_until("inferd_time_to_first_token_seconds_count{model=\"llama\"}", 3), 3);
  EXPECT_EQ(query_until("up{job=\"inferd\"}", 1), 1);
  prometheus.signal(SIGTERM);
  prometheus.wait(5000);
}

TEST(AlertRulesTest, PromtoolAcceptsTheAlertRules) {
  const std::string promtool = find_program("promtool");
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool is not installed (Debian package 'prometheus'; scripts/setup.sh installs it)";
  }
  const auto rules = inferd::testing::source_dir() / "deploy" / "prometheus" / "alerts.yml";
  ASSERT_TRUE(std::filesystem::exists(rules)) << rules;
  const auto result = inferd::testing::run_process({promtool, "check", "rules", rules.string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE((result.out + result.err).find("SUCCESS"), std::string::npos) << result.out << result.err;
}

TEST(DashboardTest, GrafanaDashboardIsValidJsonOnInferdMetrics) {
  const auto path = inferd::testing::source_dir() / "deploy" / "grafana" / "inferd-dashboard.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  const json d = json::parse(in, nullptr, false);
  ASSERT_FALSE(d.is_discarded());
  ASSERT_TRUE(d["panels"].is_array());
  int queries = 0;
  for (const auto& p : d["panels"]) {
    if (!p.contains("targets")) continue;
    for (const auto& t : p["targets"]) {
      EXPECT_NE(t["expr"].get<std::string>().find("inferd_"), std::string::npos) << t["expr"];
      ++queries;
    }
  }
  EXPECT_GE(queries, 15);
}

}  // namespace
}  // namespace inferd::server::testing
