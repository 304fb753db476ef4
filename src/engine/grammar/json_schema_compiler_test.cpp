#include "engine/grammar/json_schema_compiler.h"

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const CompiledGrammar> compile_schema(std::string_view text, const JsonSchemaOptions& o = {}) {
  auto g = json_schema_grammar_from_text(text, o);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  auto c = CompiledGrammar::compile(*g, testing::byte_vocab());
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

TEST(JsonSchemaCompiler, PropertiesFollowTheSchemaTextOrder) {
  auto g = compile_schema(R"({"type":"object","properties":{"zeta":{"type":"integer"},"alpha":{"type":"integer"}},
                              "required":["alpha","zeta"]})");
  EXPECT_TRUE(testing::matches_bytewise(g, R"({"zeta":1,"alpha":2})"));
  EXPECT_FALSE(testing::matches_bytewise(g, R"({"alpha":2,"zeta":1})"));
}

TEST(JsonSchemaCompiler, ErrorCodes) {
  auto unsupported_kw = json_schema_grammar_from_text(R"({"type":"object","properties":{"a":{"not":{}}}})");
  ASSERT_FALSE(unsupported_kw.ok());
  EXPECT_EQ(unsupported_kw.status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(unsupported_kw.status().message(), "unsupported JSON Schema keyword \"not\" at #/properties/a");
  auto malformed = json_schema_grammar_from_text(R"({"type":"array","minItems":-1})");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(malformed.status().message(), "\"minItems\" at # must be a non-negative integer");
  auto not_json = json_schema_grammar_from_text("{\"type\": ");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().message(), "JSON Schema is not valid JSON");
  auto not_schema = json_schema_grammar_from_text("[1, 2]");
  ASSERT_FALSE(not_schema.ok());
  EXPECT_EQ(not_schema.status().message(), "schema at # must be an object or a boolean");
  JsonSchemaOptions strict_options;
  strict_options.strict_formats = true;
  auto strict = json_schema_grammar_from_text(R"({"type":"string","format":"uri"})", strict_options);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(), "unsupported string format \"uri\" at #");
  auto bad_pointer = json_schema_grammar_from_text(R"({"$ref":"#/$defs/~2"})");
  ASSERT_FALSE(bad_pointer.ok());
  EXPECT_NE(bad_pointer.status().message().find("not a valid JSON pointer"), std::string::npos);
}

TEST(JsonSchemaCompiler, WhitespaceIsBounded) {
  JsonSchemaOptions o;
  o.whitespace.max_spaces = 2;
  auto g = compile_schema(R"({"type":"array","items":{"type":"integer"}})", o);
  EXPECT_TRUE(testing::matches_bytewise(g, "[1,  2]"));
  EXPECT_FALSE(testing::matches_bytewise(g, "[1,   2]"));
  EXPECT_TRUE(testing::matches_bytewise(g, "[\n  1,\r\n  2\n]"));
  EXPECT_FALSE(testing::matches_bytewise(g, "[\n\n1]"));
  EXPECT_FALSE(testing::matches_bytewise(g, "[1 \n2]"));
  o.whitespace.newlines = false;
  auto flat = compile_schema(R"({"type":"array","items":{"type":"integer"}})", o);
  EXPECT_FALSE(testing::matches_bytewise(flat, "[\n1]"));
  EXPECT_TRUE(testing::matches_bytewise(flat, "[ 1 ]"));
}

TEST(JsonSchemaCompiler, NoUnboundedWhitespaceLoop) {
  // After any prefix the shortest completion stays short, and whitespace alone cannot go on.
  auto g = compile_schema(R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"string"}}}})");
  GrammarMatcher m(g);
  ASSERT_TRUE(m.accept_bytes("{\"a\": [\n").ok());
  int spaces = 0;
  while (m.accept_bytes(" ").ok()) ++spaces;
  EXPECT_EQ(spaces, 20);
  EXPECT_FALSE(m.accept_bytes("\n").ok());
  EXPECT_FALSE(m.accept_bytes("\t").ok());
  EXPECT_TRUE(m.accept_bytes("]}").ok());
}

TEST(JsonSchemaCompiler, JsonObjectGrammar) {
  auto c = CompiledGrammar::compile(json_object_grammar(), testing::byte_vocab());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_TRUE(testing::matches_bytewise(*c, R"({"a": [1, {"b": null}], "c": "\u00e9"})"));
  EXPECT_TRUE(testing::matches_bytewise(*c, "{}"));
  EXPECT_FALSE(testing::matches_bytewise(*c, "[]"));
  EXPECT_FALSE(testing::matches_bytewise(*c, "\"s\""));
  EXPECT_FALSE(testing::matches_bytewise(*c, R"({"a": 1,})"));
}

TEST(JsonSchemaCompiler, SeveralSchemasInOneGrammar) {
  Grammar g;
  JsonSchemaCompiler compiler(g);
  auto a = compiler.add_schema(Json::parse(R"({"$defs":{"X":{"type":"integer"}},"$ref":"#/$defs/X"})"), "first");
  auto b = compiler.add_schema(Json::parse(R"({"$defs":{"X":{"type":"string"}},"$ref":"#/$defs/X"})"), "second");
  ASSERT_TRUE(a.ok() && b.ok());
  g.set_root(g.add_rule("root", g.sequence({g.ref(*a), g.literal(" "), g.ref(*b)})));
  auto c = CompiledGrammar::compile(g, testing::byte_vocab());
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_TRUE(testing::matches_bytewise(*c, "5 \"x\""));
  EXPECT_FALSE(testing::matches_bytewise(*c, "5 5"));
}

TEST(JsonSchemaCompiler, ReservedNamesAreAvoided) {
  Grammar g;
  JsonSchemaCompiler compiler(g);
  for (const char* name : {"json-value", "format-date", "root", "json"}) {
    auto r = compiler.add_schema(Json::parse(R"({"type":"object","properties":{"d":{"type":"string","format":"date"}}})"),
                                 name);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status().to_string();
    EXPECT_EQ(g.rule(*r).name.rfind("schema-", 0), 0u) << g.rule(*r).name;
  }
  g.set_root(g.add_rule("root", g.ref(g.find_rule("schema-json-value"))));
  EXPECT_TRUE(CompiledGrammar::compile(g, testing::byte_vocab()).ok());
}

TEST(JsonSchemaCompiler, GrammarPrintsAndReparses) {
  auto g = json_schema_grammar_from_text(R"({"type":"object","properties":{"d":{"type":"string","format":"date"},
      "p":{"type":"string","pattern":"^[a-z]+\"$"},"n":{"type":"integer","minimum":3,"maximum":250}},"required":["d"]})");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const std::string text = g->to_gbnf();
  auto again = parse_gbnf(text);
  ASSERT_TRUE(again.ok()) << again.status().to_string() << "\n" << text;
  auto c = CompiledGrammar::compile(*again, testing::byte_vocab());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(testing::matches_bytewise(*c, R"({"d":"2024-02-29","p":"ab\"","n":250})"));
  EXPECT_FALSE(testing::matches_bytewise(*c, R"({"d":"2023-02-29"})"));
}

}  // namespace
}  // namespace inferd::engine
