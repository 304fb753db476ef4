// PII masking cases: tests/data/pii/*.json, each {"cases": [{"name", "input", "expected"} or
// {"name", "options", "error"}]}; "options" may hold "kinds" (built-in kinds to mask) and
// "extra" ([{"name", "regex"}]). A new case is a new entry, not new code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "server/audit/pii_masker.h"
#include "testing/test_paths.h"

namespace inferd::server {
namespace {

namespace fs = std::filesystem;

PiiMaskerOptions options_of(const nlohmann::json& c) {
  PiiMaskerOptions o;
  if (!c.contains("options")) return o;
  const auto& j = c["options"];
  if (j.contains("kinds")) o.kinds = j["kinds"].get<std::vector<std::string>>();
  if (j.contains("extra"))
    for (const auto& p : j["extra"]) o.extra.push_back({p.at("name"), p.at("regex")});
  return o;
}

TEST(PiiMaskingGolden, EveryCaseMasksAsExpected) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(inferd::testing::source_dir() / "tests/data/pii")) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto cases = nlohmann::json::parse(in).at("cases");
    for (const auto& c : cases) {
      const std::string name = entry.path().filename().string() + ": " + c.at("name").get<std::string>();
      auto masker = PiiMasker::create(options_of(c));
      if (c.contains("error")) {
        ASSERT_FALSE(masker.ok()) << name;
        EXPECT_NE(masker.status().message().find(c["error"].get<std::string>()), std::string::npos)
            << name << ": " << masker.status().message();
        ++checked;
        continue;
      }
      ASSERT_TRUE(masker.ok()) << name << ": " << masker.status().to_string();
      EXPECT_EQ((*masker)->mask(c.at("input").get<std::string>()), c.at("expected").get<std::string>()) << name;
      ++checked;
    }
  }
  EXPECT_GE(checked, 30);
}

TEST(PiiMaskingGolden, MaskingIsIdempotentAndNeverGrowsPlainText) {
  auto masker = PiiMasker::create({});
  ASSERT_TRUE(masker.ok());
  const std::string once = (*masker)->mask("mail bob@example.com, card 4111 1111 1111 1111, ip 10.0.0.1");
  EXPECT_EQ((*masker)->mask(once), once);
  EXPECT_EQ(PiiMasker::builtin_kinds().size(), 7u);
  // Any bytes, including malformed UTF-8: masked without a crash, text outside matches kept.
  std::mt19937 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 2 ? rng() % 256 : "0123456789@.:- +"[rng() % 16]);
    const std::string masked = (*masker)->mask(bytes);
    if (masked.find('[') == std::string::npos) {
      EXPECT_EQ(masked, bytes);
    }
  }
}

}  // namespace
}  // namespace inferd::server
