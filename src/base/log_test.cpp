#include "base/log.h"

#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace inferd {
namespace {

// Captures the default logger's lines in `out` (formatted as init_logging set up).
class LogCapture {
 public:
  explicit LogCapture(LogFormat format) {
    init_logging("info", format);
    auto logger = spdlog::default_logger();
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    saved_ = logger->sinks();
    logger->sinks() = {sink_};
    if (format == LogFormat::kText) {
      logger->set_pattern("%l %v");
    } else {
      init_logging("info", format);  // re-applies the JSON formatter to the new sink
    }
  }
  ~LogCapture() {
    spdlog::default_logger()->sinks() = saved_;
    init_logging("info", LogFormat::kText);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::vector<spdlog::sink_ptr> saved_;
};

TEST(LogTest, JsonQuote) {
  EXPECT_EQ(json_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(json_quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(json_quote("bad\xff"), "\"bad\\u00ff\"");
}

TEST(LogTest, ParseFormat) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(parse_log_format("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(parse_log_format("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(parse_log_format("xml", &f));
}

TEST(LogTest, TextEvent) {
  LogCapture capture(LogFormat::kText);
  log_event(spdlog::level::info, "request", {{"status", "200", true}, {"path", "/v1/x y"}, {"id", "r1"}});
  EXPECT_EQ(capture.text(), "info request status=200 path=\"/v1/x y\" id=r1\n");
}

TEST(LogTest, JsonLines) {
  LogCapture capture(LogFormat::kJson);
  log_event(spdlog::level::info, "request", {{"status", "200", true}, {"path", "/v1/\"x\""}});
  spdlog::warn("plain {}", "message");
  const std::string text = capture.text();
  const size_t nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos);
  const std::string first = text.substr(0, nl);
  EXPECT_EQ(first.rfind("{\"time\":\"", 0), 0u) << first;
  EXPECT_NE(first.find("Z\",\"level\":\"info\",\"msg\":\"request\",\"status\":200,\"path\":\"/v1/\\\"x\\\"\"}"),
            std::string::npos)
      << first;
  const std::string second = text.substr(nl + 1);
  EXPECT_NE(second.find("\"level\":\"warning\",\"msg\":\"plain message\"}\n"), std::string::npos) << second;
}

TEST(LogTest, LogFileReceivesLines) {
  const std::string path = (std::filesystem::temp_directory_path() / "inferd-log-test.log").string();
  std::filesystem::remove(path);
  std::string error;
  ASSERT_TRUE(init_logging("info", LogFormat::kText, {.path = path, .max_bytes = 1 << 20, .max_files = 2}, &error))
      << error;
  spdlog::info("a line for the log file");
  spdlog::default_logger()->flush();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("a line for the log file"), std::string::npos);
}

}  // namespace
}  // namespace inferd
