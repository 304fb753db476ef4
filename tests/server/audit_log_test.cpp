// The audit log on a real server: one JSON line per request with the caller's service and key
// id (never the key), the model and tokens the handler noted, status and latency; request bodies
// only for the services asked for, PII-masked; rotation by size; and the export filter, also
// through `inferd audit export`.
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "server/audit/audit_log.h"
#include "server/http/exchange.h"
#include "server/http_test_support.h"
#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> read_records(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

Router audit_router() {
  Router r;
  Status st = r.add({"POST", "/chat/completions", [](const Request&, std::shared_ptr<Exchange> ex) {
                       ex->annotate("model", "tiny");
                       ex->annotate("prompt_tokens", "12");
                       ex->annotate("completion_tokens", "5");
                       (void)ex->respond(200, kJsonContentType, R"({"reply":"write to c@d.example.org"})");
                     }},
                    {"/v1"});
  EXPECT_TRUE(st.ok());
  st = r.add({"POST", "/stream", [](const Request&, std::shared_ptr<Exchange> ex) {
                (void)ex->start_stream(200, {});
                (void)ex->send("data: card 4111 1111 1111 1111\n\n");
                (void)ex->send("data: done\n\n");
                (void)ex->finish();
              }},
             {"/v1"});
  EXPECT_TRUE(st.ok());
  return r;
}

class AuditLogTest : public HttpServerFixture {
 protected:
  void start_with(AuditLogOptions o) {
    auto log = AuditLog::create(std::move(o));
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    HttpServerOptions http = test_options();
    http.observer = *log;
    http.capture_response_body = [log = *log](const Request& r) { return log->records_bodies_of(r); };
    // Callers name their service in a test header; the key id stands for the credential.
    http.authenticate = [](const Request& req) -> std::variant<Caller, ApiError> {
      return Caller{.service = std::string(req.header("X-Test-Service").value_or("")), .key_id = "key_42"};
    };
    start_server(audit_router(), http);
  }
  const fs::path dir_ = inferd::testing::temp_dir() / "audit-log";
};

TEST_F(AuditLogTest, OneRecordPerRequestWithMaskedBodiesOnlyForChosenServices) {
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const fs::path path = dir_ / "audit.jsonl";
  start_with({.path = path.string(), .body_services = {"vista"}});
  TestClient c(port_);
  const std::string body = R"({"messages":[{"role":"user","content":"my card is 4111 1111 1111 1111, mail a@b.example.com"}]})";
  auto res = c.request("POST", "/v1/chat/completions", body, {{"X-Test-Service", "vista"}, {"Authorization", "Bearer sk-secret"}});
  ASSERT_TRUE(res);
  res = c.request("POST", "/v1/chat/completions", body, {{"X-Test-Service", "whisp"}});
  ASSERT_TRUE(res);
  res = c.request("GET", "/v1/nothing-here");
  ASSERT_TRUE(res);
  res = c.request("POST", "/v1/stream", "{}", {{"X-Test-Service", "vista"}});
  ASSERT_TRUE(res);
  server_->stop();

  const auto records = read_records(path);
  ASSERT_EQ(records.size(), 4u);
  const auto& vista = records[0];
  EXPECT_EQ(vista["service"], "vista");
  EXPECT_EQ(vista["key_id"], "key_42");
  EXPECT_EQ(vista["model"], "tiny");
  EXPECT_EQ(vista["prompt_tokens"], 12);
  EXPECT_EQ(vista["completion_tokens"], 5);
  EXPECT_EQ(vista["status"], 200);
  EXPECT_EQ(vista["client"], "127.0.0.1");
  EXPECT_EQ(vista["route"], "/v1/chat/completions");
  EXPECT_GE(vista["latency_ms"].get<double>(), 0.0);
  EXPECT_EQ(vista["time"].get<std::string>().size(), 24u);  // 2026-11-29T04:50:00.123Z
  EXPECT_FALSE(vista["request_id"].get<std::string>().empty());
  const std::string logged = vista["request_body"];
  EXPECT_NE(logged.find("my card is [CARD], mail [EMAIL]"), std::string::npos) << logged;
  EXPECT_EQ(records[1]["service"], "whisp");
  EXPECT_EQ(vista["response_body"], R"({"reply":"write to [EMAIL]"})");
  EXPECT_FALSE(records[1].contains("request_body"));
  EXPECT_FALSE(records[1].contains("response_body"));
  EXPECT_EQ(records[3]["response_body"], "data: card [CARD]\n\ndata: done\n\n") << records[3].dump();
  EXPECT_EQ(records[2]["status"], 404);
  std::ifstream in(path);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all.find("sk-secret"), std::string::npos);
  EXPECT_EQ(all.find("4111"), std::string::npos);
  EXPECT_EQ(all.find("c@d.example.org"), std::string::npos);
}

TEST_F(AuditLogTest, RotatedFilesAreExportedOldestFirstAndFiltered) {
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  const fs::path path = dir_ / "audit.jsonl";
  start_with({.path = path.string(), .max_bytes = 4096, .max_files = 50});
  TestClient c(port_);
  for (int i = 0; i < 40; ++i) {
    auto res = c.request("POST", "/v1/chat/completions", "{}", {{"X-Test-Service", i % 2 ? "fork" : "data"}});
    ASSERT_TRUE(res);
  }
  server_->stop();
  EXPECT_TRUE(fs::exists(dir_ / "audit.1.jsonl"));  // rotated at 4 KiB

  std::ostringstream out;
  auto n = export_audit_records(path.string(), {.service = "fork"}, out);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 20);
  std::istringstream lines(out.str());
  std::string line, previous;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["service"], "fork");
    EXPECT_GE(j["time"].get<std::string>(), previous);
    previous = j["time"];
  }
  std::ostringstream none;
  EXPECT_EQ(*export_audit_records(path.string(), {.since = "2999-01-01"}, none), 0);
  EXPECT_EQ(*export_audit_records(path.string(), {.until = "2000-01-01T00:00:00Z"}, none), 0);
  EXPECT_EQ(*export_audit_records(path.string(), {.since = "2000-01-01T00:00:00Z"}, none), 40);
  EXPECT_EQ(export_audit_records(path.string(), {.since = "yesterday"}, none).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(export_audit_records((dir_ / "none.jsonl").string(), {}, none).status().code(), StatusCode::kNotFound);

  // The same through the CLI.
  const auto r = inferd::testing::run_process(
      {inferd::testing::inferd_binary(), "audit", "export", "--log", path.string(), "--service", "data"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 20);
  const auto bad = inferd::testing::run_process(
      {inferd::testing::inferd_binary(), "audit", "export", "--log", path.string(), "--since", "soon"});
  EXPECT_EQ(bad.exit_code, 2);
}

TEST(AuditLogOptionsTest, BadOptionsAreRefused) {
  EXPECT_FALSE(AuditLog::create({}).ok());
  EXPECT_FALSE(AuditLog::create({.path = "/proc/inferd-audit/audit.jsonl"}).ok());  // cannot be created
  EXPECT_FALSE(AuditLog::create({.path = "/tmp/a.jsonl", .masking = {.kinds = {"NOPE"}}}).ok());
}

}  // namespace
}  // namespace inferd::server::testing
