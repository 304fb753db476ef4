// `inferd serve` as a process: the demo model when no --model is given (said in the log), the
// health answer once loaded, a clear failure for a model that does not load, and a graceful
// exit on SIGTERM.
#include <csignal>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/http_request.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {



// The status of GET `target`, or 0 when nothing answers.
int get_status(uint16_t port, const std::string& target, std::string* body = nullptr) {
  const testing::HttpAnswer a = testing::http_request(port, "GET", target);
  if (body) *body = a.text;
  return a.status;
}

TEST(ServeCommandTest, ServesTheDemoModelAndStopsOnSigterm) {
  const uint16_t port = testing::free_port();
  testing::ChildProcess server({testing::inferd_binary(), "serve", "--port", std::to_string(port), "--threads", "1"},
                               (testing::temp_dir() / "serve-demo.log").string());
  ASSERT_TRUE(server.started());
  int status = 0;
  for (int i = 0; i < 600 && status != 200; ++i) {
    status = get_status(port, "/health");
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status, 200) << server.log();
  std::string body;
  EXPECT_EQ(get_status(port, "/v1/models", &body), 200);
  EXPECT_NE(body.find("\"inferd-demo\""), std::string::npos) << body;
  EXPECT_NE(server.log().find("demo model"), std::string::npos) << server.log();

  // The load tool against it.
  const auto load = testing::run_process({testing::inferd_binary(), "bench", "--server",
                                          "http://127.0.0.1:" + std::to_string(port), "--concurrency", "1", "3",
                                          "-n", "5", "--json"});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  const auto report = nlohmann::json::parse(load.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << load.out;
  ASSERT_EQ(report["levels"].size(), 2u);
  EXPECT_EQ(report["levels"][1]["concurrency"], 3);
  EXPECT_EQ(report["levels"][1]["output_tokens"], 15);
  EXPECT_GT(report["levels"][1]["output_tokens_per_s"].get<double>(), 0.0);
  EXPECT_GE(report["levels"][0]["ttft_p99_ms"].get<double>(), report["levels"][0]["ttft_p50_ms"].get<double>());
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
  EXPECT_EQ(get_status(port, "/health"), 0);
}

TEST(ServeCommandTest, AModelThatDoesNotLoadEndsTheProcessWithAnError) {
  const uint16_t port = testing::free_port();
  testing::ChildProcess server({testing::inferd_binary(), "serve", "--port", std::to_string(port), "--model",
                                "/nonexistent/model.gguf"},
                               (testing::temp_dir() / "serve-missing.log").string());
  ASSERT_TRUE(server.started());
  EXPECT_EQ(server.wait(15000), 1) << server.log();
  EXPECT_NE(server.log().find("/nonexistent/model.gguf"), std::string::npos) << server.log();
}

TEST(ServeCommandTest, AnInvalidApiPrefixIsRefused) {
  const auto r = testing::run_process({testing::inferd_binary(), "serve", "--api-prefix", "/v1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("prefix"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace inferd
