// `inferd run --temp 0` on the F16 llama fixture reproduces llama.cpp's greedy continuation of
// every reference prompt, byte for byte; bad arguments fail with a message and exit status.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string h;
  for (unsigned char c : bytes) {
    h += digits[c >> 4];
    h += digits[c & 15];
  }
  return h;
}

TEST(RunCommand, GreedyMatchesReferenceText) {
  INFERD_REQUIRE_SHARED(ref_path, "fixtures/ref/fixture-llama-f16.json");
  INFERD_REQUIRE_SHARED(model_path, "fixtures/fixture-llama-f16.gguf");
  std::ifstream in(ref_path);
  const auto ref = nlohmann::json::parse(in);
  for (const auto& c : ref["cases"]) {
    const auto r = ::inferd::testing::run_process(
        {::inferd::testing::inferd_binary(), "run", "-m", model_path.string(), "-p",
         c["prompt"].get<std::string>(), "-n", "16", "--temp", "0", "--threads", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(hex(r.out), c["greedy_text_hex"].get<std::string>()) << c["prompt"];
  }
}

TEST(RunCommand, ReportsErrors) {
  auto r = ::inferd::testing::run_process(
      {::inferd::testing::inferd_binary(), "run", "-m", "/nonexistent.gguf", "-p", "hi"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no such file"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  INFERD_REQUIRE_SHARED(model_path, "fixtures/fixture-llama-f16.gguf");
  r = ::inferd::testing::run_process({::inferd::testing::inferd_binary(), "run", "-m",
                                      model_path.string(), "-p", "hi", "--top-p", "1.5"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace inferd
