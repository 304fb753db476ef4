// Data-driven JSON Schema -> grammar cases: tests/data/grammar/*.json. Each file holds
// {"cases": [...]}, each case {"name", "schema", and any of}:
//   "valid":         values the grammar must accept, written compactly and pretty-printed (the
//                    checker must also find them valid: the data is checked too)
//   "valid_text":    texts the grammar must accept exactly as written
//   "invalid":       values the grammar must reject and the checker must find invalid
//   "invalid_text":  texts the grammar must reject
//   "not_generated": values the schema allows but the grammar deliberately does not generate
//   "error":         the schema (or the grammar made from it) must be refused with an error
//                    containing this text
// Accepting means: fed byte by byte as tokens, every byte is allowed by the mask and the text
// is complete at the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/grammar/compiled_grammar.h"
#include "engine/grammar/grammar_testing.h"
#include "engine/grammar/json_schema_checker_testing.h"
#include "engine/grammar/json_schema_compiler.h"
#include "testing/test_paths.h"

namespace inferd::engine {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(inferd::testing::source_dir() / "tests/data/grammar"))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

void run_case(const Json& c, const std::string& where) {
  SCOPED_TRACE(where);
  auto grammar = json_schema_grammar(c.at("schema"));
  if (c.contains("error")) {
    // Refused by the schema compiler, or (no complete value) when the grammar is compiled.
    Status st = grammar.status();
    if (grammar.ok()) st = CompiledGrammar::compile(*grammar, testing::byte_vocab()).status();
    ASSERT_FALSE(st.ok()) << "schema should be refused";
    EXPECT_NE(st.message().find(c["error"].get<std::string>()), std::string::npos) << "got: " << st.message();
    return;
  }
  ASSERT_TRUE(grammar.ok()) << grammar.status().to_string();
  auto compiled = CompiledGrammar::compile(*grammar, testing::byte_vocab());
  ASSERT_TRUE(compiled.ok()) << compiled.status().to_string() << "\n" << grammar->to_gbnf();
  const testing::JsonSchemaChecker checker(c["schema"]);
  for (const Json& v : c.value("valid", Json::array())) {
    EXPECT_EQ(checker.check(v), "") << "test data: " << v.dump() << " should be valid";
    EXPECT_TRUE(testing::matches_bytewise(*compiled, v.dump())) << "rejected: " << v.dump();
    EXPECT_TRUE(testing::matches_bytewise(*compiled, v.dump(2))) << "rejected: " << v.dump(2);
  }
  for (const Json& t : c.value("valid_text", Json::array()))
    EXPECT_TRUE(testing::matches_bytewise(*compiled, t.get<std::string>())) << "rejected: " << t.get<std::string>();
  for (const Json& v : c.value("invalid", Json::array())) {
    EXPECT_NE(checker.check(v), "") << "test data: " << v.dump() << " should be invalid";
    EXPECT_FALSE(testing::matches_bytewise(*compiled, v.dump())) << "accepted: " << v.dump();
  }
  for (const Json& t : c.value("invalid_text", Json::array()))
    EXPECT_FALSE(testing::matches_bytewise(*compiled, t.get<std::string>())) << "accepted: " << t.get<std::string>();
  for (const Json& v : c.value("not_generated", Json::array())) {
    EXPECT_EQ(checker.check(v), "") << "test data: " << v.dump() << " should be valid";
    EXPECT_FALSE(testing::matches_bytewise(*compiled, v.dump())) << "accepted: " << v.dump();
  }
}

TEST(JsonSchemaCases, AllFiles) {
  const auto files = case_files();
  ASSERT_FALSE(files.empty());
  size_t num_cases = 0;
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    const Json doc = Json::parse(ss.str(), nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << file << " is not valid JSON";
    for (const Json& c : doc.at("cases")) {
      run_case(c, file.filename().string() + ": " + c.value("name", "?"));
      ++num_cases;
    }
  }
  EXPECT_GT(num_cases, 50u);
}

}  // namespace
}  // namespace inferd::engine
