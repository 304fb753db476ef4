#include "engine/grammar/json_number_grammar.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "engine/grammar/grammar_testing.h"

namespace inferd::engine {
namespace {

std::shared_ptr<const CompiledGrammar> compile_expr(Grammar& g, ExprId e) {
  g.set_root(g.add_rule("root", e));
  auto c = CompiledGrammar::compile(g, testing::byte_vocab());
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : nullptr;
}

TEST(JsonNumberGrammar, IntegerRangesMatchExactlyTheirMembers) {
  std::mt19937_64 rng(3);
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {0, 0}, {0, 9}, {1, 9}, {-9, -1}, {5, 5}, {7, 123}, {-123, 45}, {-1000, -999}, {99, 101}, {10, 99},
      {0, 1000}, {123, 4567}, {-45, 0}, {1999, 2024}, {-300, -7}};
  for (const auto& [lo, hi] : ranges) {
    SCOPED_TRACE(fmt::format("[{}, {}]", lo, hi));
    Grammar g;
    auto e = integer_range_expr(g, lo, hi);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    auto c = compile_expr(g, *e);
    ASSERT_TRUE(c);
    for (int64_t v = lo - 30; v <= hi + 30; ++v)
      EXPECT_EQ(testing::matches_bytewise(c, std::to_string(v)), v >= lo && v <= hi) << v;
    EXPECT_FALSE(testing::matches_bytewise(c, fmt::format("0{}", std::abs(lo))));
  }
  // Random wide ranges, random probes.
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t a = static_cast<int64_t>(rng() % 2000000) - 1000000;
    const int64_t b = a + static_cast<int64_t>(rng() % 3000000);
    Grammar g;
    auto c = compile_expr(g, *integer_range_expr(g, a, b));
    for (int k = 0; k < 60; ++k) {
      const int64_t v = a - 500000 + static_cast<int64_t>(rng() % 4000000);
      EXPECT_EQ(testing::matches_bytewise(c, std::to_string(v)), v >= a && v <= b) << a << ".." << b << ": " << v;
    }
  }
}

TEST(JsonNumberGrammar, OpenIntegerRanges) {
  Grammar g1;
  auto at_least = compile_expr(g1, *integer_range_expr(g1, 18, std::nullopt));
  EXPECT_TRUE(testing::matches_bytewise(at_least, "18"));
  EXPECT_TRUE(testing::matches_bytewise(at_least, "9999999999999999"));
  EXPECT_FALSE(testing::matches_bytewise(at_least, "17"));
  EXPECT_FALSE(testing::matches_bytewise(at_least, "10000000000000000"));
  Grammar g2;
  auto at_most = compile_expr(g2, *integer_range_expr(g2, std::nullopt, -2));
  EXPECT_TRUE(testing::matches_bytewise(at_most, "-2"));
  EXPECT_TRUE(testing::matches_bytewise(at_most, "-9999999999999999"));
  EXPECT_FALSE(testing::matches_bytewise(at_most, "-1"));
  Grammar g3;
  EXPECT_FALSE(integer_range_expr(g3, 5, 4).ok());
}

TEST(JsonNumberGrammar, NumberRangesMatchTheirMembers) {
  struct Case {
    std::optional<NumberBound> lo, hi;
  };
  const std::vector<Case> cases = {
      {NumberBound{0, false}, NumberBound{1, false}},   {NumberBound{0, true}, std::nullopt},
      {NumberBound{-2, false}, NumberBound{3, true}},   {std::nullopt, NumberBound{-1, true}},
      {NumberBound{-5, true}, NumberBound{-3, false}},  {NumberBound{10, false}, NumberBound{10, false}},
      {NumberBound{-1, true}, NumberBound{1, true}}};
  std::mt19937 rng(5);
  for (const Case& c : cases) {
    Grammar g;
    auto e = number_range_expr(g, c.lo, c.hi);
    ASSERT_TRUE(e.ok()) << e.status().to_string();
    auto m = compile_expr(g, *e);
    auto inside = [&](double x) {
      if (c.lo && (c.lo->exclusive ? x <= c.lo->value : x < c.lo->value)) return false;
      if (c.hi && (c.hi->exclusive ? x >= c.hi->value : x > c.hi->value)) return false;
      return true;
    };
    for (int k = 0; k < 400; ++k) {
      // Numbers with 0-3 fraction digits in [-12, 12], written without exponent.
      const int whole = static_cast<int>(rng() % 25) - 12;
      const int digits = static_cast<int>(rng() % 4);
      std::string text = std::to_string(std::abs(whole));
      if (whole < 0 || (whole == 0 && rng() % 4 == 0)) text = "-" + text;
      std::string frac;
      for (int d = 0; d < digits; ++d) frac += static_cast<char>('0' + rng() % 10);
      if (!frac.empty()) text += "." + frac;
      const double x = std::stod(text);
      const bool negative_zero = text[0] == '-' && x == 0.0;
      if (negative_zero) continue;  // "-0" and "-0.0" are valid values but never generated
      EXPECT_EQ(testing::matches_bytewise(m, text), inside(x)) << text;
    }
  }
}

}  // namespace
}  // namespace inferd::engine
