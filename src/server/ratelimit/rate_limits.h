// RateLimits and RateSubject: the budgets one party (a service, an API key) may draw from.
#pragma once

#include <cstdint>
#include <string>

namespace inferd::server::ratelimit {

// Per-minute budgets and a concurrency cap; 0 means "no limit" for each field.
struct RateLimits {
  uint32_t requests_per_minute = 0;  // GCRA: bursts of up to this many, then 60 s / limit apart
  uint64_t tokens_per_minute = 0;    // prompt + completion tokens, charged after each answer
  uint32_t concurrent = 0;           // requests in flight at once

  bool unlimited() const {
    return requests_per_minute == 0 && tokens_per_minute == 0 && concurrent == 0;
  }
};

// One party whose limits a request counts against. `id` names its counters and is unique across
// parties of every kind: "service:vista", "key:k_12ab". The part before ':' and the rest name
// the party in 429 messages ("key k_12ab").
struct RateSubject {
  std::string id;
  RateLimits limits;
};

}  // namespace inferd::server::ratelimit
