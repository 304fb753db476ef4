#include "server/http/https_redirect.h"

#include <gtest/gtest.h>

namespace inferd::server {
namespace {

std::string location(std::optional<std::string_view> host, std::string_view target, uint16_t port) {
  auto r = https_redirect_location(host, target, port);
  return r.ok() ? *r : "error: " + std::string(r.status().message());
}

TEST(HttpsRedirectTest, KeepsHostAndTargetAndNamesTheTlsPort) {
  EXPECT_EQ(location("api.example.com", "/v1/models?x=1", 443),
            "https://api.example.com/v1/models?x=1");
  EXPECT_EQ(location("api.example.com:80", "/", 443), "https://api.example.com/");
  EXPECT_EQ(location("api.example.com:8080", "/a", 8443), "https://api.example.com:8443/a");
  EXPECT_EQ(location("10.0.0.7", "/health", 8443), "https://10.0.0.7:8443/health");
  EXPECT_EQ(location("[::1]:8080", "/x", 443), "https://[::1]/x");
  EXPECT_EQ(location("example.com.", "/", 443), "https://example.com/");
}

TEST(HttpsRedirectTest, RefusesWhatCouldLeadElsewhere) {
  EXPECT_EQ(location(std::nullopt, "/", 443), "error: the request has no Host field");
  EXPECT_EQ(location("", "/", 443), "error: the request has no Host field");
  for (std::string_view bad :
       {"evil.com/x", "a@evil.com", "evil.com:80x", "evil.com:", "[::1", "[::1]x", "a..b", ".a",
        "exa mple.com", "evil.com\\@good", "a:1:2"}) {
    EXPECT_EQ(location(bad, "/", 443), "error: invalid Host field") << bad;
  }
  EXPECT_EQ(location("good.com", "http://evil.com/", 443),
            "error: the request target must be a path (origin-form)");
  EXPECT_EQ(location("good.com", "*", 443),
            "error: the request target must be a path (origin-form)");
}

}  // namespace
}  // namespace inferd::server
