// RateLimiter: admits or refuses a request against the rate limits of every party it counts
// against (its service and its API key), and answers with the 429 and headers clients expect.
//
// What a route's RateClass counts:
//   kUnlimited   nothing (health, readiness): never refused, no headers, no hold
//   kLight       requests per minute only (model listing, tokenize)
//   kInference   requests per minute, tokens per minute and concurrent requests
// Requests per minute: GCRA (gcra.h), bursts of up to the limit, then one every 60 s / limit;
// N requests at once at a fresh subject with limit L admit exactly min(N, L).
// Tokens per minute: charged after each answer (charge_tokens); a subject whose minute of tokens
// is spent is refused until enough of it has recovered. An admitted request may overshoot the
// budget by its own tokens, and requests already in flight by theirs: at most
// `concurrent` requests when that is limited too.
// Concurrent requests: a slot per subject is taken at admission and given back when the
// admission's hold is destroyed (exactly once).
// All or nothing: a request refused by any limit of any subject charges nothing anywhere.
//
// Headers (admitted and refused): X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset
// (whole seconds, rounded up, until the budget is full again) of the most constrained requests
// limit (fewest requests left; none when no subject has a requests limit). A refusal is a 429
// rate_limit_exceeded naming each party and limit exceeded, with Retry-After: the seconds
// (rounded up, at least 1) until a retry would pass every refusing limit.
//
// Redis (redis_url set): state lives in Redis and is shared by every server on it
// (redis_rate_store.h). When Redis cannot be reached, the limiter falls back to its in-process
// state (each server then enforces the limits alone, so a fleet of N servers may admit up to N
// times a limit) and logs a warning at most once a minute; it uses Redis again once Redis
// answers. Refusing everything while Redis is down would turn a cache outage into a full outage,
// and admitting everything would drop the limits entirely, hence this middle course.
//
// Thread safety: every method may be called from any number of threads at once. Holds may
// outlive the limiter.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <variant>

#include "base/status.h"
#include "server/http/error_response.h"
#include "server/http/route_tags.h"
#include "server/ratelimit/local_rate_store.h"
#include "server/ratelimit/rate_limits.h"

namespace inferd::server::ratelimit {

class RedisRateStore;

struct RateLimiterOptions {
  // redis://[:PASSWORD@]HOST[:PORT][/DB] or redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...];
  // empty: in-process only
  std::string redis_url;
  std::string redis_key_prefix = "inferd:ratelimit:";
  std::chrono::milliseconds redis_timeout{250};           // connect and each command
  std::chrono::milliseconds redis_retry_interval{5'000};  // after a failure, in-process until then
  // A concurrency slot in Redis lapses after this (a crashed server's slots free themselves).
  std::chrono::milliseconds concurrency_slot_ttl{600'000};
  SteadyClock clock;  // of the in-process state; unset: std::chrono::steady_clock::now
};

struct RateAdmission {
  std::shared_ptr<const void> hold;  // the concurrency slots; null when none was taken
  HeaderList headers;                // X-RateLimit-* for the response
};

class RateLimiter {
 public:
  // Errors: a malformed redis_url (kInvalidArgument). An unreachable Redis is not an error: the
  // limiter starts in-process and logs a warning.
  static Result<std::unique_ptr<RateLimiter>> create(RateLimiterOptions options);
  ~RateLimiter();

  // Admits the request (charging every subject) or refuses it (charging none). Subjects with
  // the same id count once (the first one's limits apply).
  std::variant<RateAdmission, ApiError> admit(std::span<const RateSubject> subjects,
                                              RateClass rate_class);

  // After the response: the prompt + completion tokens of a finished kInference request.
  void charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens);

  // True while requests go to Redis (false in-process, and while falling back).
  bool using_redis() const;

 private:
  RateLimiter(RateLimiterOptions options, std::shared_ptr<RedisRateStore> redis);
  void warn_fallback(const Status& why);

  const RateLimiterOptions options_;
  const std::shared_ptr<LocalRateStore> local_;
  const std::shared_ptr<RedisRateStore> redis_;  // null without redis_url
  const std::string instance_id_;                // names this server's concurrency slots
  std::atomic<uint64_t> next_slot_{0};
  std::atomic<bool> redis_healthy_{false};
  std::atomic<int64_t> last_warning_ns_{0};
};

}  // namespace inferd::server::ratelimit
