// Conformance of the Jinja interpreter with Python's jinja2: every case in
// tests/data/chat/jinja/*.json is rendered and compared with the output (or the failure) jinja2
// produced, recorded in tests/data/chat/jinja/expected/ by scripts/render_chat_templates.py.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja/template.h"
#include "testing/test_paths.h"

namespace inferd::chat::jinja {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

fs::path cases_dir() {
  return testing::source_dir() / "tests" / "data" / "chat" / "jinja";
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
}

// The fixed time the expected outputs were rendered with (2024-09-26 12:00:00 local time).
std::time_t fixed_now() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 8;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  tm.tm_isdst = -1;
  return std::mktime(&tm);
}

std::vector<std::string> case_files() {
  std::vector<std::string> stems;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(cases_dir(), ec)) {
    if (entry.path().extension() == ".json") stems.push_back(entry.path().stem().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

class JinjaConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(JinjaConformanceTest, MatchesJinja2) {
  const json spec = read_json(cases_dir() / (GetParam() + ".json"));
  const json expected = read_json(cases_dir() / "expected" / (GetParam() + ".json"));
  ASSERT_TRUE(spec.is_object()) << "bad case file";
  ASSERT_TRUE(expected.is_object())
      << "missing or bad expected file; run scripts/render_chat_templates.py";
  TemplateOptions options;
  if (spec.contains("env")) {
    const json& env = spec["env"];
    options.lexer.trim_blocks = env.value("trim_blocks", true);
    options.lexer.lstrip_blocks = env.value("lstrip_blocks", true);
    options.lexer.keep_trailing_newline = env.value("keep_trailing_newline", false);
  }
  RenderOptions render_options;
  render_options.now = fixed_now();
  int checked = 0;
  for (const json& c : spec["cases"]) {
    const std::string name = c["name"].get<std::string>();
    const std::string source = c["template"].get<std::string>();
    json context = spec.value("context", json::object());
    if (c.contains("context")) {
      for (const auto& [k, v] : c["context"].items()) context[k] = v;
    }
    ASSERT_TRUE(expected.contains(name)) << "no expected result for " << name;
    const json& want = expected[name];
    auto tmpl = Template::parse(source, options);
    Result<std::string> got =
        tmpl.ok() ? tmpl->render_json(context, render_options) : Result<std::string>(tmpl.status());
    if (want.contains("output")) {
      const std::string want_text = want["output"].get<std::string>();
      if (!got.ok()) {
        ADD_FAILURE() << GetParam() << "/" << name << ": jinja2 rendered " << json(want_text).dump()
                      << " but we failed: " << got.status().to_string()
                      << "\n  template: " << json(source).dump();
      } else if (*got != want_text) {
        ADD_FAILURE() << GetParam() << "/" << name
                      << ": output differs\n  want: " << json(want_text).dump()
                      << "\n  got:  " << json(*got).dump()
                      << "\n  template: " << json(source).dump();
      }
    } else if (got.ok()) {
      ADD_FAILURE() << GetParam() << "/" << name << ": jinja2 failed ("
                    << want["error"].get<std::string>() << ") but we rendered " << json(*got).dump()
                    << "\n  template: " << json(source).dump();
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaConformanceTest, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace inferd::chat::jinja
