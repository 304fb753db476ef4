#include "server/http/request_target.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

TEST(RequestTarget, SplitsAndDecodesPathAndQuery) {
  auto t = parse_request_target("/v1/models/a%2Fb%20c?limit=2&q=hello+world&q=%41&flag&=v&&");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->path, "/v1/models/a%2Fb%20c");
  ASSERT_EQ(t->segments.size(), 3u);
  EXPECT_EQ(t->segments[2], "a/b c");
  EXPECT_EQ(t->query.get_or("limit", ""), "2");
  EXPECT_EQ(t->query.get_all("q"), (std::vector<std::string_view>{"hello world", "A"}));
  EXPECT_TRUE(t->query.contains("flag"));
  EXPECT_EQ(t->query.get_or("flag", "x"), "");
  EXPECT_EQ(t->query.get_or("", "x"), "v");
  EXPECT_EQ(t->query.size(), 5u);
}

TEST(RequestTarget, PlusIsLiteralInPathAndEmptySegmentsAreDropped) {
  auto t = parse_request_target("//v1//a+b/");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "a+b"}));
  auto root = parse_request_target("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->segments.empty());
}

TEST(RequestTarget, AcceptsAbsoluteForm) {
  auto t = parse_request_target("http://example.com:8080/v1/models?x=1");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->path, "/v1/models");
  EXPECT_EQ(t->query.get_or("x", ""), "1");
  auto bare = parse_request_target("HTTPS://example.com");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->path, "/");
}

TEST(RequestTarget, RejectsMalformedTargetsAndTraversal) {
  for (const char* bad : {
           "",
           "v1/models",
           "*",
           "ftp://x/y",
           "http:///y",
           "http://x?y",
           "/a b",
           "/a#frag",
           "/a/%",
           "/a/%4",
           "/a/%zz",
           "/a?x=%g0",
           "/../etc/passwd",
           "/a/./b",
           "/a/..",
           "/a/%2e%2e/b",
           "/a/%2E%2e",
           "/a/.%2e",
           "/a/%2e",
           "/a/x%2F..%2Fy",
           "/a/..%5Cb",
           "/a/%00",
           "/a/%0d%0a",
           "/a/%7f",
           "/a/\x01",
           "/a/\x80",
       }) {
    EXPECT_FALSE(parse_request_target(bad).ok()) << "accepted: " << bad;
  }
  // Dots inside names are fine.
  EXPECT_TRUE(parse_request_target("/v1/models/llama-3.1.gguf").ok());
  EXPECT_TRUE(parse_request_target("/a/...").ok());
  EXPECT_TRUE(parse_request_target("/a/..b").ok());
}

TEST(RequestTarget, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b+c", false).value(), "a b+c");
  EXPECT_EQ(percent_decode("a%20b+c", true).value(), "a b c");
  EXPECT_EQ(percent_decode("%e2%82%ac", false).value(), "\xe2\x82\xac");
  EXPECT_FALSE(percent_decode("%", false).ok());
  EXPECT_FALSE(percent_decode("a%2", false).ok());
  EXPECT_FALSE(percent_decode("%x1", false).ok());
}

}  // namespace
}  // namespace inferd::server
