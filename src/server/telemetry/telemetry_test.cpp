#include "server/telemetry/telemetry.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

TelemetryOptions quiet() {
  TelemetryOptions o;
  o.version = "1.2.3";
  o.access_log = false;
  return o;
}

TEST(TelemetryTest, CountsExchangesByEndpointMethodStatusAndModel) {
  auto t = Telemetry::create(quiet());
  ASSERT_TRUE(t.ok());
  Request req;
  req.method = "POST";
  req.route_pattern = "/v1/chat/completions";
  req.received_at = std::chrono::steady_clock::now() - std::chrono::milliseconds(30);
  ExchangeRecord ok(req);
  ok.status = 200;
  ok.finished_at = std::chrono::steady_clock::now();
  ok.annotations = {{"model", "m1"}};
  (*t)->on_exchange_end(ok);

  Request odd;
  odd.method = "BREW";  // any token is a method; it must not make a series of its own
  odd.received_at = std::chrono::steady_clock::now();
  ExchangeRecord unmatched(odd);
  unmatched.status = 404;
  unmatched.finished_at = odd.received_at;
  (*t)->on_exchange_end(unmatched);

  ExchangeRecord left(req);  // the client left before any response
  left.cancel_reason = CancelReason::kClientDisconnected;
  left.finished_at = std::chrono::steady_clock::now();
  (*t)->on_exchange_end(left);

  const std::string text = (*t)->scrape({});
  EXPECT_NE(text.find("inferd_requests_total{endpoint=\"/v1/chat/completions\",method=\"POST\",status=\"200\","
                      "service=\"default\",model=\"m1\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("inferd_requests_total{endpoint=\"unmatched\",method=\"other\",status=\"404\","
                      "service=\"default\",model=\"\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("inferd_requests_total{endpoint=\"/v1/chat/completions\",method=\"POST\",status=\"499\","
                      "service=\"default\",model=\"\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("inferd_requests_cancelled_total{endpoint=\"/v1/chat/completions\",reason=\"client "
                      "disconnected\",service=\"default\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("inferd_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",method=\"POST\","
                      "service=\"default\",model=\"m1\",le=\"0.025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("inferd_request_duration_seconds_bucket{endpoint=\"/v1/chat/completions\",method=\"POST\","
                      "service=\"default\",model=\"m1\",le=\"0.05\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("inferd_build_info{version=\"1.2.3\"} 1\n"), std::string::npos);
}

TEST(TelemetryTest, ModelSeriesAndState) {
  Telemetry t;
  ModelTelemetry& m = t.model("m1");
  EXPECT_EQ(&m, &t.model("m1"));
  ModelTelemetry::Series& s = m.for_service("");
  EXPECT_EQ(&s, &m.for_service("default"));
  s.observe_time_to_first_token(0.08);
  s.observe_inter_token(0.02);
  s.observe_queue(0.001);
  s.add_tokens(10, 5, 3);
  m.for_service("vista").add_tokens(7, 1, 0);
  t.set_model_state("m1", ModelState::kLoading);
  t.set_model_state("m1", ModelState::kReady);
  t.set_model_loaded("m1", 1000, 1.5);
  const std::string text = t.scrape({});
  for (const char* line : {
           "inferd_time_to_first_token_seconds_bucket{service=\"default\",model=\"m1\",le=\"0.075\"} 0\n",
           "inferd_time_to_first_token_seconds_bucket{service=\"default\",model=\"m1\",le=\"0.1\"} 1\n",
           "inferd_inter_token_latency_seconds_count{service=\"default\",model=\"m1\"} 1\n",
           "inferd_queue_time_seconds_count{service=\"default\",model=\"m1\"} 1\n",
           "inferd_prompt_tokens_total{service=\"default\",model=\"m1\"} 10\n",
           "inferd_generation_tokens_total{service=\"default\",model=\"m1\"} 5\n",
           "inferd_cached_tokens_total{service=\"default\",model=\"m1\"} 3\n",
           "inferd_prompt_tokens_total{service=\"vista\",model=\"m1\"} 7\n",
           "inferd_model_state{model=\"m1\",state=\"loading\"} 0\n",
           "inferd_model_state{model=\"m1\",state=\"ready\"} 1\n",
           "inferd_model_memory_bytes{model=\"m1\"} 1000\n",
           "inferd_model_load_seconds{model=\"m1\"} 1.5\n",
           "# TYPE inferd_process_cpu_seconds_total counter\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
  EXPECT_FALSE(m.tracing());
}

TEST(TelemetryTest, RefusesAnHttpsCollector) {
  TelemetryOptions o = quiet();
  o.otlp_endpoint = "https://collector:4318";
  EXPECT_FALSE(Telemetry::create(o).ok());
}

}  // namespace
}  // namespace inferd::server
