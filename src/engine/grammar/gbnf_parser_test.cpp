#include "engine/grammar/gbnf_parser.h"

#include <gtest/gtest.h>

#include "engine/grammar/grammar_automaton.h"

namespace inferd::engine {
namespace {

std::string parse_error(std::string_view text) {
  auto g = parse_gbnf(text);
  EXPECT_FALSE(g.ok()) << text;
  return g.ok() ? std::string() : g.status().message();
}

std::string build_error(std::string_view text) {
  auto g = parse_gbnf(text);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return {};
  auto a = GrammarAutomaton::build(*g);
  EXPECT_FALSE(a.ok()) << text;
  return a.ok() ? std::string() : a.status().message();
}

TEST(GbnfParser, ParsesRulesAcrossLinesWithComments) {
  auto g = parse_gbnf(R"(
# a small grammar
root ::= "{" ws pair ( "," ws pair )* ws "}"   # trailing comment
pair ::= key ws ":" ws
         value
key  ::= "\"" [a-z_]+ "\""
value ::= [0-9]{1,5} | "true" | "false" | "x"? "y"* "z"+ | [^"\\\x00-\x1F] | . | @"<|t|>" | @7
ws ::= [ \t\n]{0,4}
)");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->rule(g->root()).name, "root");
  EXPECT_NE(g->find_rule("pair"), kNoRule);
  EXPECT_NE(g->find_rule("value"), kNoRule);
  const GrammarExpr& pair = g->expr(g->rule(g->find_rule("pair")).body);
  ASSERT_EQ(pair.kind, ExprKind::kSequence);
  EXPECT_EQ(pair.items.size(), 5u);  // the body continues on the next line
}

TEST(GbnfParser, PrintsWhatItParses) {
  const char* text = R"(root ::= "a\n\"" ([b-d] | "e"){2,3} f* | g+ h? | [^x] | . | @"[T]" | @12
f ::= "" | "\u00E9\U0001F600"
g ::= "x"{2,} "y"{,3}
h ::= [\]\-\^\\a]
)";
  auto g = parse_gbnf(text);
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const std::string printed = g->to_gbnf();
  auto again = parse_gbnf(printed);
  ASSERT_TRUE(again.ok()) << again.status().to_string() << "\n" << printed;
  EXPECT_EQ(again->to_gbnf(), printed);
  EXPECT_NE(printed.find("{2,3}"), std::string::npos) << printed;
  EXPECT_NE(printed.find("@\"[T]\""), std::string::npos) << printed;
  EXPECT_NE(printed.find("@12"), std::string::npos) << printed;
}

TEST(GbnfParser, EscapesAndClasses) {
  auto g = parse_gbnf(R"(root ::= [a-cx\-] "\x41\u00e9")");
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  const GrammarExpr& seq = g->expr(g->rule(g->root()).body);
  ASSERT_EQ(seq.kind, ExprKind::kSequence);
  const GrammarExpr& cls = g->expr(seq.items[0]);
  ASSERT_EQ(cls.kind, ExprKind::kChars);
  EXPECT_TRUE(cls.chars.contains('a'));
  EXPECT_TRUE(cls.chars.contains('c'));
  EXPECT_TRUE(cls.chars.contains('-'));
  EXPECT_TRUE(cls.chars.contains('x'));
  EXPECT_FALSE(cls.chars.contains('d'));
  EXPECT_EQ(g->expr(seq.items[1]).text, "A\xC3\xA9");
}

TEST(GbnfParser, NegatedClassExcludesSurrogatesAndListedChars) {
  auto g = parse_gbnf(R"(root ::= [^a])");
  ASSERT_TRUE(g.ok());
  const GrammarExpr& cls = g->expr(g->rule(g->root()).body);
  EXPECT_FALSE(cls.chars.contains('a'));
  EXPECT_TRUE(cls.chars.contains('b'));
  EXPECT_TRUE(cls.chars.contains(0x10FFFF));
  EXPECT_FALSE(cls.chars.contains(0xD800));
}

TEST(GbnfParser, ErrorsNameLineColumnAndRule) {
  EXPECT_EQ(parse_error("root ::= \"a\"\nnext ::= \"b\" )"),
            "GBNF line 2, column 14 (rule \"next\"): unbalanced ')'");
  EXPECT_EQ(parse_error("root ::= \"abc"), "GBNF line 1, column 10 (rule \"root\"): unterminated literal");
  EXPECT_EQ(parse_error("root ::= \"\\q\""), "GBNF line 1, column 12 (rule \"root\"): unknown escape '\\q'");
  EXPECT_EQ(parse_error("root ::= missing"),
            "GBNF line 1, column 10: rule \"missing\" is used but never defined");
  EXPECT_EQ(parse_error("root ::= \"a\"\nroot ::= \"b\""),
            "GBNF line 2, column 1 (rule \"root\"): rule \"root\" is defined twice");
  EXPECT_EQ(parse_error("root \"a\""), "GBNF line 1, column 6 (rule \"root\"): expected '::=' after the rule name");
  EXPECT_EQ(parse_error("root ::= \"a\"{3,1}"),
            "GBNF line 1, column 13 (rule \"root\"): repetition {3,1} has its maximum below its minimum");
  EXPECT_EQ(parse_error("root ::= (\"a\""), "GBNF line 1, column 10 (rule \"root\"): expected ')'");
  EXPECT_EQ(parse_error("root ::= [z-a]"),
            "GBNF line 1, column 14 (rule \"root\"): range end U+0061 before its start U+007A");
  EXPECT_EQ(parse_error("root ::= [abc"), "GBNF line 1, column 10 (rule \"root\"): unterminated character class");
  EXPECT_EQ(parse_error("root ::= * \"a\""), "GBNF line 1, column 10 (rule \"root\"): '*' follows nothing it could repeat");
  EXPECT_EQ(parse_error("root ::= \"\\uD800\""),
            "GBNF line 1, column 13 (rule \"root\"): escape U+D800 is not a Unicode scalar value");
  EXPECT_EQ(parse_error("root ::= @x"),
            "GBNF line 1, column 11 (rule \"root\"): expected a quoted token text or a token id after '@'");
  EXPECT_EQ(parse_error("root ::= \"a\"{1,200000}"),
            "GBNF line 1, column 13 (rule \"root\"): repetition bound above 100000");
  EXPECT_EQ(parse_error("other ::= \"a\""), "GBNF: no rule named \"root\"");
  EXPECT_EQ(parse_error("::= \"a\""), "GBNF line 1, column 1: expected a rule name");
}

TEST(GbnfParser, DeepNestingIsAnErrorNotACrash) {
  std::string text = "root ::= ";
  text += std::string(100000, '(');
  text += "\"a\"";
  text += std::string(100000, ')');
  const std::string err = parse_error(text);
  EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
}

TEST(GbnfParser, ParseIntoExistingGrammar) {
  auto g = parse_gbnf("root ::= item+\nitem ::= \"x\"");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(parse_gbnf_into("pair ::= item item", *g).ok());
  EXPECT_NE(g->find_rule("pair"), kNoRule);
  const Status redefined = parse_gbnf_into("item ::= \"y\"", *g);
  EXPECT_FALSE(redefined.ok());
  EXPECT_NE(redefined.message().find("defined twice"), std::string::npos) << redefined.message();
}

TEST(GrammarAutomatonBuild, RejectsLeftRecursion) {
  EXPECT_EQ(build_error("root ::= root \"a\" | \"b\""),
            "grammar is left-recursive: root -> root (rewrite it so that each of these rules "
            "consumes input before using the next)");
  const std::string indirect = build_error("root ::= a\na ::= b \"x\"\nb ::= a \"y\" | \"z\"");
  EXPECT_NE(indirect.find("left-recursive: a -> b -> a"), std::string::npos) << indirect;
  // Through a rule that can match nothing.
  const std::string nullable = build_error("root ::= e root \"x\" | \"y\"\ne ::= \"\" | \"z\"");
  EXPECT_NE(nullable.find("left-recursive: root -> root"), std::string::npos) << nullable;
}

TEST(GrammarAutomatonBuild, RejectsGrammarsWithoutCompleteText) {
  EXPECT_EQ(build_error("root ::= \"a\" root"),
            "grammar matches no complete text: rule \"root\" can never end");
}

TEST(GrammarAutomatonBuild, RightRecursionAndNullableLoopsAreFine) {
  for (const char* text : {"root ::= \"a\" root | \"\"", "root ::= (\"\" | \"a\")*", "root ::= (x?)*\nx ::= \"a\"",
                           "root ::= \"(\" root \")\" root | \"\""}) {
    auto g = parse_gbnf(text);
    ASSERT_TRUE(g.ok()) << text;
    auto a = GrammarAutomaton::build(*g);
    EXPECT_TRUE(a.ok()) << text << ": " << a.status().to_string();
  }
}

TEST(GrammarAutomatonBuild, TooLargeIsAnError) {
  auto g = parse_gbnf("root ::= [a-z]{0,50000} [0-9]{0,50000}");
  ASSERT_TRUE(g.ok());
  AutomatonOptions opt;
  opt.max_states = 1000;
  auto a = GrammarAutomaton::build(*g, opt);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("grammar too large"), std::string::npos) << a.status().message();
}

}  // namespace
}  // namespace inferd::engine
