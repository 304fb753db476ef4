// Python semantics of values: printing, equality, ordering, arithmetic, JSON and Unicode.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "chat/jinja/json_value.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/py_format.h"
#include "chat/jinja/py_ops.h"
#include "chat/jinja/unicode.h"
#include "chat/jinja/value_format.h"

namespace inferd::chat::jinja {
namespace {

TEST(ValueFormatTest, FloatsPrintLikePython) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(0.00001), "1e-05");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_repr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(float_repr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(float_repr(std::nan("")), "nan");
}

TEST(ValueFormatTest, StringsReprLikePython) {
  EXPECT_EQ(string_repr("abc"), "'abc'");
  EXPECT_EQ(string_repr("it's"), "\"it's\"");
  EXPECT_EQ(string_repr("a'b\"c"), "'a\\'b\"c'");
  EXPECT_EQ(string_repr("\t\n\r\\"), "'\\t\\n\\r\\\\'");
  EXPECT_EQ(string_repr("\x01\x7f"), "'\\x01\\x7f'");
  EXPECT_EQ(string_repr("\xc2\xa0\xe2\x80\x8b"), "'\\xa0\\u200b'");  // NBSP, zero width space
  EXPECT_EQ(string_repr("é😀"), "'é😀'");
}

TEST(ValueFormatTest, PrintsContainersAndSpecialValues) {
  auto dict = std::make_shared<DictData>();
  ASSERT_TRUE(
      dict->set(Value::string("a"), Value::list({Value::none(), Value::boolean(true)})).ok());
  ASSERT_TRUE(dict->set(Value::integer(1), Value::tuple({Value::number(2.5)})).ok());
  EXPECT_EQ(*repr(Value::dict(dict)), "{'a': [None, True], 1: (2.5,)}");
  EXPECT_EQ(*to_str(Value()), "");
  EXPECT_EQ(*repr(Value()), "Undefined");
  EXPECT_EQ(*to_str(Value::string("<b>", true)), "<b>");
  EXPECT_EQ(*repr(Value::string("<b>", true)), "Markup('<b>')");
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(PyOpsTest, EqualityAndHashingFollowPython) {
  EXPECT_TRUE(py_equal(Value::integer(1), Value::number(1.0)));
  EXPECT_TRUE(py_equal(Value::boolean(true), Value::integer(1)));
  EXPECT_FALSE(py_equal(Value::list({}), Value::tuple({})));
  EXPECT_FALSE(py_equal(Value::string("1"), Value::integer(1)));
  EXPECT_TRUE(py_equal(Value(), Value::undefined("other")));
  auto dict = std::make_shared<DictData>();
  ASSERT_TRUE(dict->set(Value::integer(1), Value::string("int")).ok());
  ASSERT_TRUE(dict->set(Value::boolean(true), Value::string("bool")).ok());
  ASSERT_TRUE(dict->set(Value::number(1.0), Value::string("float")).ok());
  EXPECT_EQ(dict->size(), 1u);
  EXPECT_EQ(dict->find(Value::integer(1))->as_string(), "float");
  EXPECT_FALSE(dict->set(Value::list({}), Value::none()).ok());  // unhashable
}

TEST(PyOpsTest, OrderingErrorsForMixedTypes) {
  EXPECT_TRUE(*py_less(Value::list({Value::integer(1)}), Value::list({Value::integer(2)})));
  EXPECT_TRUE(*py_less(Value::string("a"), Value::string("é")));
  auto r = py_less(Value::string("a"), Value::integer(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "'<' not supported between instances of 'str' and 'int'");
}

TEST(PyOpsTest, IntegerOverflowIsAnError) {
  Limits limits;
  Budget budget(limits);
  const Value max = Value::integer(std::numeric_limits<int64_t>::max());
  EXPECT_FALSE(py_binary(budget, BinaryOp::kAdd, max, Value::integer(1)).ok());
  EXPECT_FALSE(py_binary(budget, BinaryOp::kMul, max, Value::integer(2)).ok());
  EXPECT_FALSE(py_binary(budget, BinaryOp::kPow, Value::integer(2), Value::integer(64)).ok());
  EXPECT_EQ(py_binary(budget, BinaryOp::kPow, Value::integer(2), Value::integer(62))->as_int(),
            int64_t{1} << 62);
  EXPECT_FALSE(py_negate(Value::integer(std::numeric_limits<int64_t>::min())).ok());
  EXPECT_EQ(py_binary(budget, BinaryOp::kFloorDiv, Value::integer(-7), Value::integer(2))->as_int(),
            -4);
  EXPECT_EQ(py_binary(budget, BinaryOp::kMod, Value::integer(-7), Value::integer(3))->as_int(), 2);
  EXPECT_EQ(py_binary(budget, BinaryOp::kMod, Value::number(-7.5), Value::integer(2))->as_float(),
            0.5);
}

TEST(PyOpsTest, SliceIndicesFollowPython) {
  auto s = slice_indices(5, Value::integer(-2), Value::none(), Value::none());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->indices, (std::vector<int64_t>{3, 4}));
  s = slice_indices(5, Value::none(), Value::none(), Value::integer(-2));
  EXPECT_EQ(s->indices, (std::vector<int64_t>{4, 2, 0}));
  s = slice_indices(3, Value::integer(100), Value::integer(-100), Value::integer(-1));
  EXPECT_EQ(s->indices, (std::vector<int64_t>{2, 1, 0}));
  EXPECT_FALSE(slice_indices(3, Value::none(), Value::none(), Value::integer(0)).ok());
}

TEST(PyFormatTest, PercentAndFormat) {
  Limits limits;
  Budget budget(limits);
  auto r = percent_format(budget, Value::string("%s|%5.2f|%-3d|%x|%%"),
                          Value::tuple({Value::string("a"), Value::number(3.14159),
                                        Value::integer(7), Value::integer(255)}));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->as_string(), "a| 3.14|7  |ff|%");
  EXPECT_EQ(*format_with_spec(Value::integer(1234567), ","), "1,234,567");
  EXPECT_EQ(*format_with_spec(Value::number(0.5), ".1%"), "50.0%");
  EXPECT_EQ(*format_with_spec(Value::string("ab"), "*^6"), "**ab**");
  EXPECT_EQ(*format_with_spec(Value::boolean(true), ">5"), "    1");
  EXPECT_FALSE(format_with_spec(Value::none(), "5").ok());
}

TEST(JsonValueTest, DumpsLikePythonJson) {
  const auto parsed =
      nlohmann::ordered_json::parse(R"({"b": [1, 2.0, null, true], "a": "é\n\u0001"})");
  auto v = value_from_json(parsed, 64);
  ASSERT_TRUE(v.ok());
  JsonDumpOptions compact;
  EXPECT_EQ(*json_dumps(*v, compact, 1 << 20),
            "{\"b\": [1, 2.0, null, true], \"a\": \"é\\n\\u0001\"}");
  JsonDumpOptions pretty;
  pretty.indent = "  ";
  pretty.ensure_ascii = true;
  EXPECT_EQ(*json_dumps(*v, pretty, 1 << 20),
            "{\n  \"b\": [\n    1,\n    2.0,\n    null,\n    true\n  ],\n  \"a\": "
            "\"\\u00e9\\n\\u0001\"\n}");
  EXPECT_FALSE(json_dumps(Value(), compact, 100).ok());
  EXPECT_FALSE(json_dumps(*v, compact, 10).ok());  // over the size limit
}

TEST(JsonValueTest, DeepJsonIsRejected) {
  nlohmann::ordered_json deep = nlohmann::ordered_json::array();
  for (int i = 0; i < 100; ++i) deep = nlohmann::ordered_json::array({deep});
  EXPECT_FALSE(value_from_json(deep, 50).ok());
  EXPECT_TRUE(value_from_json(deep, 200).ok());
}

TEST(UnicodeTest, CaseMappingFollowsPython) {
  EXPECT_EQ(unicode::upper("straße"), "STRASSE");
  EXPECT_EQ(unicode::lower("ΟΔΟΣ ΣΑΣ"), "οδος σας");  // final sigma
  EXPECT_EQ(unicode::title("hello wORLD ǆ"), "Hello World ǅ");
  EXPECT_EQ(unicode::capitalize("ǆemal"), "ǅemal");
  EXPECT_TRUE(unicode::str_islower("straße 1"));
  EXPECT_FALSE(unicode::str_isupper("123"));
}

TEST(UnicodeTest, WhitespaceAndLines) {
  EXPECT_EQ(unicode::strip("\u3000\u00a0 x \t", std::nullopt, true, true), "x");
  EXPECT_EQ(unicode::strip("xxaxx", std::string("x"), true, false), "axx");
  EXPECT_EQ(unicode::split_whitespace(" a  b\u2003c ", -1),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(unicode::split_whitespace("a b c", 1), (std::vector<std::string>{"a", "b c"}));
  EXPECT_EQ(unicode::rsplit_whitespace("a b c", 1), (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(unicode::splitlines("a\r\nb\u2028c\n", false),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(unicode::splitlines("a\nb", true), (std::vector<std::string>{"a\n", "b"}));
}

TEST(UnicodeTest, MalformedUtf8NeverReadsOutOfBounds) {
  const std::string bad = "\xf0\x9f\x98";  // truncated 4-byte sequence
  EXPECT_EQ(unicode::count_code_points(bad), 3u);
  EXPECT_FALSE(unicode::is_valid_utf8(bad));
  EXPECT_TRUE(unicode::is_valid_utf8("\xef\xbf\xbd"));  // U+FFFD itself
  EXPECT_EQ(unicode::upper(bad), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(LexerTest, TokenizesTagsAndOperators) {
  const std::string src =
      normalize_source("a{{ x.y|f(1, 2.5) }}{% if b // 2 ** 3 %}c{% endif %}", false);
  const SourceMap map(src);
  auto tokens = tokenize(src, map, LexerOptions{});
  ASSERT_TRUE(tokens.ok()) << tokens.status().to_string();
  std::vector<TokenType> types;
  for (const Token& t : *tokens) types.push_back(t.type);
  const std::vector<TokenType> want = {TokenType::kData,        TokenType::kVariableBegin,
                                       TokenType::kName,        TokenType::kDot,
                                       TokenType::kName,        TokenType::kPipe,
                                       TokenType::kName,        TokenType::kLParen,
                                       TokenType::kInteger,     TokenType::kComma,
                                       TokenType::kFloat,       TokenType::kRParen,
                                       TokenType::kVariableEnd, TokenType::kBlockBegin,
                                       TokenType::kName,        TokenType::kName,
                                       TokenType::kFloorDiv,    TokenType::kInteger,
                                       TokenType::kPow,         TokenType::kInteger,
                                       TokenType::kBlockEnd,    TokenType::kData,
                                       TokenType::kBlockBegin,  TokenType::kName,
                                       TokenType::kBlockEnd,    TokenType::kEof};
  EXPECT_EQ(types, want);
}

TEST(LexerTest, ErrorsCarryLineAndColumn) {
  const std::string src = normalize_source("ok\n  {{ x ? y }}", false);
  const SourceMap map(src);
  auto tokens = tokenize(src, map, LexerOptions{});
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().message(),
            "template syntax error at line 2, column 8: unexpected char '?' at 10");
  const std::string comment = normalize_source("{# open", false);
  const SourceMap cmap(comment);
  auto ctokens = tokenize(comment, cmap, LexerOptions{});
  ASSERT_FALSE(ctokens.ok());
  EXPECT_NE(ctokens.status().message().find("Missing end of comment tag"), std::string::npos);
}

TEST(LexerTest, NormalizesNewlines) {
  EXPECT_EQ(normalize_source("a\r\nb\rc\n", false), "a\nb\nc");
  EXPECT_EQ(normalize_source("a\n\n", false), "a\n");
  EXPECT_EQ(normalize_source("a\n", true), "a\n");
}

}  // namespace
}  // namespace inferd::chat::jinja
