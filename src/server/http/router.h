// Router: the route table of the server, one row per (method, path pattern).
//
// A pattern is a '/'-separated path whose segments are literals or parameters written
// "{name}" (a whole segment, name of [A-Za-z0-9_]). A parameter matches one non-empty segment,
// percent-decoded; "%2F" lets a value hold a '/'. Routes can be mounted under several prefixes at
// once: the OpenAI routes answer under "/v1" and a configurable second prefix such as "/api/v1",
// while "/health" is mounted at the root (prefix "").
//
// Matching: among the rows whose pattern matches the path, literals win over parameters at the
// first segment where two patterns differ ("/models/pull" before "/models/{model}"). A path that
// matches no pattern is kNotFound; one that matches only under other methods is
// kMethodNotAllowed, with the Allow list. Method names are case-sensitive.
//
// Example, an endpoint that streams Server-Sent Events (see sse.h, exchange.h):
//
//   Router router;
//   Status st = router.add({.method = "POST", .pattern = "/chat/completions",
//                           .handler = [engine](const Request& req, std::shared_ptr<Exchange> ex) {
//                             ex->start_stream(200, sse_headers());
//                             auto job = engine->submit(req.body, [ex](std::string json) {
//                               ex->send(sse_data(json));      // from the engine's thread
//                             }, [ex] { ex->send(std::string(kSseDone)); ex->finish(); });
//                             ex->on_cancel([job] { job->cancel(); });
//                           },
//                           .auth_scope = AuthScope::kInference,
//                           .rate_class = RateClass::kInference},
//                          {"/v1", "/api/v1"});
//
// Thread safety: add() while no server uses the router; match() is const and may run on any
// number of threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/http/param_list.h"
#include "server/http/request.h"
#include "server/http/route_tags.h"

namespace inferd::server {

class Exchange;

// Called on an I/O thread once the whole request is read. The handler must not block: it answers
// at once through the exchange or keeps the exchange and answers later from any thread.
using Handler = std::function<void(const Request& request, std::shared_ptr<Exchange> exchange)>;

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/chat/completions", "/models/{model}"
  Handler handler;
  AuthScope auth_scope = AuthScope::kInference;
  RateClass rate_class = RateClass::kInference;
};

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // kFound: the row; valid while the router lives
  std::string pattern;           // kFound: the full pattern with its prefix
  ParamList params;              // kFound: decoded path parameters
  std::string allow;             // kFound, kMethodNotAllowed: "GET, POST, OPTIONS"
};

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Mounts `route` under each prefix ("" is the root; otherwise "/a/b" without a trailing '/').
  // Errors: an empty method or handler, a malformed pattern or prefix, or a row with the same
  // method and pattern shape as one already present.
  Status add(Route route, const std::vector<std::string>& prefixes = {""});

  // Matches decoded path segments (RequestTarget::segments) for `method`.
  RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;

  size_t size() const;

 private:
  struct Segment;
  struct Row;
  std::vector<Row> rows_;
};

}  // namespace inferd::server
