#include "server/http/cors_policy.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

TEST(CorsPolicyTest, ListedOriginsOnly) {
  const CorsPolicy p({"https://app.example.com/", "http://localhost:3000"});
  EXPECT_TRUE(p.enabled());
  EXPECT_TRUE(p.allows("https://app.example.com"));
  EXPECT_TRUE(p.allows("HTTPS://APP.example.com"));
  EXPECT_TRUE(p.allows("http://localhost:3000"));
  EXPECT_FALSE(p.allows("https://app.example.com.evil.com"));
  EXPECT_FALSE(p.allows("http://app.example.com"));
  EXPECT_FALSE(p.allows("null"));
  EXPECT_FALSE(p.allows(""));
  EXPECT_EQ(p.response_fields("https://evil.com"), "");
  EXPECT_EQ(p.response_fields("http://localhost:3000"),
            "Access-Control-Allow-Origin: http://localhost:3000\r\nVary: Origin\r\n"
            "Access-Control-Expose-Headers: X-Request-Id, Retry-After, X-RateLimit-Limit, "
            "X-RateLimit-Remaining, X-RateLimit-Reset\r\n");
}

TEST(CorsPolicyTest, EmptyListIsOffAndStarAllowsAny) {
  EXPECT_FALSE(CorsPolicy({}).enabled());
  EXPECT_FALSE(CorsPolicy({}).allows("https://a.com"));
  const CorsPolicy any({"*"});
  EXPECT_TRUE(any.allows("https://whatever.example"));
  EXPECT_FALSE(any.allows(""));
}

TEST(CorsPolicyTest, PreflightEchoesOnlyTheAllowedRequestedHeaders) {
  const CorsPolicy p({"*"});
  EXPECT_EQ(p.preflight_fields("POST, OPTIONS",
                               "Authorization, content-type,X-Stainless-Retry-Count, "
                               "x-evil, x-stainless-, Cookie"),
            "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
            "Access-Control-Allow-Headers: Authorization, content-type, X-Stainless-Retry-Count\r\n"
            "Access-Control-Max-Age: 600\r\n");
  const std::string all = p.preflight_fields("GET, OPTIONS", std::nullopt);
  for (const char* h :
       {"Authorization", "Content-Type", "X-Request-Id", "X-Session-ID", "OpenAI-Organization"})
    EXPECT_NE(all.find(h), std::string::npos) << h;
}

}  // namespace
}  // namespace inferd::server
