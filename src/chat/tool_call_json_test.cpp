#include "chat/tool_call_json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

namespace inferd::chat {
namespace {

using json = nlohmann::ordered_json;

TEST(ScanJsonContainer, FindsTheEnd) {
  struct Case {
    const char* text;
    size_t end;
  };
  const Case cases[] = {
      {"{}", 2},
      {"[]", 2},
      {"{} trailing", 2},
      {"{\"a\": 1}x", 8},
      {"[1, -2.5e+3, 0, 0.0, 1E9, true, false, null, \"s\", [], {}]", 57},
      {"{\"k\": \"} ] \\\" \\\\ \\u00e9 \\/\"}", 28},
      {"{\"nested\": {\"deep\": [[{\"x\": []}]]}}", 35},
      {"{\"a\":\n\t{\"b\" :\r [ ] } }", 22},
  };
  for (const Case& c : cases) {
    const JsonSpan span = scan_json_container(c.text, 0);
    EXPECT_EQ(span.step, ParseStep::kMatched) << c.text;
    EXPECT_EQ(span.end, c.end) << c.text;
  }
}

TEST(ScanJsonContainer, PrefixesNeedMore) {
  const std::string doc = R"({"a": [1, -2.5e-3, true, null, "x\"\u00e9"], "b": {"c": false}})";
  ASSERT_EQ(scan_json_container(doc, 0).step, ParseStep::kMatched);
  for (size_t n = 0; n < doc.size(); ++n) {
    EXPECT_EQ(scan_json_container(doc.substr(0, n), 0).step, ParseStep::kNeedMore) << n;
  }
}

TEST(ScanJsonContainer, FailsAtTheFirstImpossibleByte) {
  const char* bad[] = {
      "x",
      "\"s\"",
      "1",
      "{a: 1}",
      "{\"a\" 1}",
      "{\"a\": }",
      "{\"a\": 1,}",
      "[1,]",
      "[1 2]",
      "{\"a\": 01}",
      "[-]",
      "[1.]",
      "[1e]",
      "[.5]",
      "[tru]",
      "[nul1]",
      "{\"a\": \"\x01\"}",
      "[\"\\x\"]",
      "[\"\\u12g4\"]",
      "{]",
      "[}",
      "{\"a\": +1}",
      "[NaN]",
      "[Infinity]",
      "['a']",
  };
  for (const char* text : bad) {
    EXPECT_EQ(scan_json_container(text, 0).step, ParseStep::kFailed) << text;
  }
  // A stray closing bracket after the container is not part of it.
  EXPECT_EQ(scan_json_container("[1]]", 0).end, 3u);
}

TEST(ScanJsonContainer, DepthLimit) {
  const std::string ok = std::string(kMaxToolJsonDepth, '[') + std::string(kMaxToolJsonDepth, ']');
  EXPECT_EQ(scan_json_container(ok, 0).step, ParseStep::kMatched);
  const std::string deep =
      std::string(kMaxToolJsonDepth + 1, '[') + std::string(kMaxToolJsonDepth + 1, ']');
  EXPECT_EQ(scan_json_container(deep, 0).step, ParseStep::kFailed);
  EXPECT_EQ(scan_json_container(std::string(100000, '['), 0).step, ParseStep::kFailed);
}

TEST(ScanJsonContainer, StartsAtPos) {
  EXPECT_EQ(scan_json_container("ab{}", 2).end, 4u);
  EXPECT_EQ(scan_json_container("ab", 2).step, ParseStep::kNeedMore);
  EXPECT_EQ(scan_json_container("ab ", 2).step, ParseStep::kFailed);
}

// Random JSON-like texts: the scanner and nlohmann must agree on what is a JSON container.
TEST(ScanJsonContainer, AgreesWithAFullParser) {
  const char* pieces[] = {"{",    "}",   "[",    "]",    ",",  ":",  " ", "\"a\"", "\"\\n\"", "1",
                          "-0.5", "2e3", "true", "null", "\"", "\\", "0", "01",    "x",       "\n"};
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<size_t> pick(0, std::size(pieces) - 1);
  std::uniform_int_distribution<size_t> length(1, 16);
  size_t matched = 0;
  for (int iter = 0; iter < 200000; ++iter) {
    std::string s = rng() % 2 ? "{" : "[";
    for (size_t n = length(rng); n > 0; --n) s += pieces[pick(rng)];
    const JsonSpan span = scan_json_container(s, 0);
    const json full = json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (span.step == ParseStep::kMatched) {
      ++matched;
      const std::string head = s.substr(0, span.end);
      // Syntax agrees; only numbers out of double range are left to the full parser.
      if (json::parse(head, nullptr, false).is_discarded()) {
        EXPECT_NE(head.find('e'), std::string::npos) << head;
        continue;
      }
      // Whatever follows the container is not part of a longer JSON text.
      if (span.end < s.size()) {
        bool trailing_ws = true;
        for (size_t i = span.end; i < s.size(); ++i) trailing_ws &= s[i] == ' ' || s[i] == '\n';
        EXPECT_EQ(!full.is_discarded(), trailing_ws) << s;
      }
    } else {
      EXPECT_TRUE(full.is_discarded()) << s;
    }
  }
  EXPECT_GT(matched, 1000u);
}

TEST(CallFromObject, ArgumentForms) {
  const CallObjectKeys keys{"name", "arguments", "parameters", "id", false};
  auto call = [&](const char* text) { return call_from_object(json::parse(text), keys); };

  auto c = call(R"({"name": "f", "arguments": {"b": 1, "a": [true]}, "id": "x1"})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->name, "f");
  EXPECT_EQ(c->arguments, R"({"b":1,"a":[true]})");
  EXPECT_EQ(c->id, "x1");

  c = call(R"({"name": "f", "parameters": {"q": "é"}})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->arguments, R"({"q":"é"})");
  EXPECT_EQ(c->id, "");

  c = call(R"({"name": "f", "arguments": " {\"q\": 1} "})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->arguments, R"({"q":1})");

  c = call(R"({"name": "f", "arguments": null})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->arguments, "{}");
  c = call(R"({"name": "f"})");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->arguments, "{}");

  EXPECT_FALSE(call(R"({"name": "f", "arguments": [1]})"));
  EXPECT_FALSE(call(R"({"name": "f", "arguments": "not json"})"));
  EXPECT_FALSE(call(R"({"name": "f", "arguments": "[1]"})"));
  EXPECT_FALSE(call(R"({"name": "f", "arguments": "{} x"})"));
  EXPECT_FALSE(call(R"({"name": "", "arguments": {}})"));
  EXPECT_FALSE(call(R"({"name": 3, "arguments": {}})"));
  EXPECT_FALSE(call(R"({"arguments": {}})"));
  EXPECT_FALSE(call_from_object(json::array(), keys));

  const std::string deep = std::string(100, '[') + std::string(100, ']');
  json object = {{"name", "f"}, {"arguments", "{\"a\": " + deep + "}"}};
  EXPECT_FALSE(call_from_object(object, keys));

  const CallObjectKeys required{"name", "arguments", "parameters", "", true};
  EXPECT_FALSE(call_from_object(json::parse(R"({"name": "f"})"), required));
  EXPECT_TRUE(call_from_object(json::parse(R"({"name": "f", "parameters": {}})"), required));
}

TEST(ParseJsonText, RejectsWhatTheScannerCannotSee) {
  EXPECT_TRUE(parse_json_text("{\"a\": 1}").has_value());
  EXPECT_FALSE(parse_json_text("{\"a\": \"\xff\"}").has_value());     // ill-formed UTF-8
  EXPECT_FALSE(parse_json_text("{\"a\": \"\\ud800\"}").has_value());  // lone surrogate
  EXPECT_FALSE(parse_json_text("{\"a\": 1e999}").has_value());        // out of range
}

}  // namespace
}  // namespace inferd::chat
