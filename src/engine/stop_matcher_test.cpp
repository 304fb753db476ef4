#include "engine/stop_matcher.h"

#include <gtest/gtest.h>

namespace inferd::engine {
namespace {

// Feeds the pieces and returns (released text, whether a stop matched).
std::pair<std::string, bool> feed(std::vector<std::string> stops, std::vector<std::string> pieces) {
  StopMatcher m(std::move(stops));
  std::string out;
  for (const auto& p : pieces)
    if (m.push(p, out)) return {out, true};
  m.flush(out);
  return {out, false};
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  EXPECT_EQ(feed({}, {"a", "b", "c"}), std::make_pair(std::string("abc"), false));
}

TEST(StopMatcher, StopAcrossPiecesIsExcluded) {
  EXPECT_EQ(feed({"END"}, {"hello E", "N", "D world"}), std::make_pair(std::string("hello "), true));
}

TEST(StopMatcher, HoldsBackOnlyPossiblePrefixes) {
  StopMatcher m({"###"});
  std::string out;
  EXPECT_FALSE(m.push("ab#", out));
  EXPECT_EQ(out, "ab");
  EXPECT_FALSE(m.push("x", out));
  EXPECT_EQ(out, "ab#x");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  EXPECT_EQ(feed({"cd", "b"}, {"abcd"}), std::make_pair(std::string("a"), true));
}

TEST(StopMatcher, UnmatchedPrefixIsReleasedAtFlush) {
  EXPECT_EQ(feed({"STOP"}, {"go ST"}), std::make_pair(std::string("go ST"), false));
}

TEST(StopMatcher, Utf8StopStrings) {
  EXPECT_EQ(feed({"\xc3\xa9t\xc3\xa9"}, {"un \xc3\xa9", "t\xc3\xa9 chaud"}),
            std::make_pair(std::string("un "), true));
}

TEST(StopMatcher, EmptyStopStringsAreIgnored) {
  EXPECT_EQ(feed({""}, {"abc"}), std::make_pair(std::string("abc"), false));
}

}  // namespace
}  // namespace inferd::engine
