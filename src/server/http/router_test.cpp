#include "server/http/router.h"

#include <gtest/gtest.h>

#include "server/http/request_target.h"

namespace inferd::server {
namespace {

Handler noop() {
  return [](const Request&, std::shared_ptr<Exchange>) {};
}

std::vector<std::string> segs(std::string_view path) {
  auto t = parse_request_target(path);
  EXPECT_TRUE(t.ok()) << t.status().to_string();
  return t.ok() ? t->segments : std::vector<std::string>{};
}

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  ASSERT_TRUE(router.add({"GET", "/models", noop()}, {"/v1"}).ok());
  ASSERT_TRUE(router.add({"GET", "/models/{model}", noop()}, {"/v1"}).ok());

  RouteMatch m = router.match("GET", segs("/v1/models"));
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.pattern, "/v1/models");
  EXPECT_TRUE(m.params.empty());

  m = router.match("GET", segs("/v1/models/org%2Fname%20x"));
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.pattern, "/v1/models/{model}");
  EXPECT_EQ(m.params.get_or("model", ""), "org/name x");

  EXPECT_EQ(router.match("GET", segs("/v1/models/a/b")).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.match("GET", segs("/models")).kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(router.match("GET", segs("/")).kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, MountsUnderSeveralPrefixesAndTheRoot) {
  Router router;
  ASSERT_TRUE(
      router
          .add({"POST", "/chat/completions", noop(), AuthScope::kInference, RateClass::kInference},
               {"/v1", "/api/v1"})
          .ok());
  ASSERT_TRUE(
      router.add({"GET", "/health", noop(), AuthScope::kPublic, RateClass::kUnlimited}).ok());
  EXPECT_EQ(router.size(), 3u);

  for (const char* path : {"/v1/chat/completions", "/api/v1/chat/completions"}) {
    const RouteMatch m = router.match("POST", segs(path));
    ASSERT_EQ(m.kind, RouteMatch::Kind::kFound) << path;
    EXPECT_EQ(m.route->auth_scope, AuthScope::kInference);
    EXPECT_EQ(m.route->rate_class, RateClass::kInference);
  }
  EXPECT_EQ(router.match("POST", segs("/chat/completions")).kind, RouteMatch::Kind::kNotFound);
  const RouteMatch health = router.match("GET", segs("/health"));
  ASSERT_EQ(health.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(health.route->auth_scope, AuthScope::kPublic);
  EXPECT_EQ(router.match("GET", segs("/v1/health")).kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, OtherMethodIsMethodNotAllowedWithAllowList) {
  Router router;
  ASSERT_TRUE(router.add({"POST", "/embeddings", noop()}, {"/v1"}).ok());
  ASSERT_TRUE(router.add({"DELETE", "/embeddings", noop()}, {"/v1"}).ok());
  const RouteMatch m = router.match("GET", segs("/v1/embeddings"));
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "DELETE, OPTIONS, POST");
  EXPECT_EQ(router.match("post", segs("/v1/embeddings")).kind,
            RouteMatch::Kind::kMethodNotAllowed);  // methods are case-sensitive
}

TEST(Router, LiteralBeatsParameter) {
  Router router;
  ASSERT_TRUE(router.add({"GET", "/models/{model}", noop()}).ok());
  ASSERT_TRUE(router.add({"GET", "/models/default", noop()}).ok());
  ASSERT_TRUE(router.add({"GET", "/{kind}/{id}/x", noop()}).ok());
  ASSERT_TRUE(router.add({"GET", "/{kind}/7/x", noop()}).ok());
  EXPECT_EQ(router.match("GET", segs("/models/default")).pattern, "/models/default");
  EXPECT_EQ(router.match("GET", segs("/models/other")).pattern, "/models/{model}");
  EXPECT_EQ(router.match("GET", segs("/a/7/x")).pattern, "/{kind}/7/x");
  const RouteMatch m = router.match("GET", segs("/a/8/x"));
  EXPECT_EQ(m.pattern, "/{kind}/{id}/x");
  EXPECT_EQ(m.params.get_or("kind", ""), "a");
  EXPECT_EQ(m.params.get_or("id", ""), "8");
}

TEST(Router, RootPattern) {
  Router router;
  ASSERT_TRUE(router.add({"GET", "/", noop()}).ok());
  EXPECT_EQ(router.match("GET", segs("/")).kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(router.match("GET", segs("/x")).kind, RouteMatch::Kind::kNotFound);
}

TEST(Router, RejectsMalformedRows) {
  Router router;
  EXPECT_FALSE(router.add({"", "/a", noop()}).ok());
  EXPECT_FALSE(router.add({"get", "/a", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a", nullptr}).ok());
  EXPECT_FALSE(router.add({"GET", "a", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a//b", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/{b", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/{}", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/{b-c}", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/{b}/{b}", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/../b", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a/x%20", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/a", noop()}, {}).ok());
  EXPECT_FALSE(router.add({"GET", "/a", noop()}, {"v1"}).ok());
  EXPECT_FALSE(router.add({"GET", "/a", noop()}, {"/v1/"}).ok());
  EXPECT_FALSE(router.add({"GET", "/a", noop()}, {"/v1", "/v1"}).ok());
  EXPECT_EQ(router.size(), 0u);

  ASSERT_TRUE(router.add({"GET", "/models/{model}", noop()}).ok());
  EXPECT_FALSE(router.add({"GET", "/models/{name}", noop()}).ok());  // same shape
  EXPECT_TRUE(router.add({"POST", "/models/{name}", noop()}).ok());
}

}  // namespace
}  // namespace inferd::server
