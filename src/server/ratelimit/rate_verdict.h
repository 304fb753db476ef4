// RateVerdict: what a rate store decided about one request, per subject, in the store's own
// clock (times are relative to the moment of the decision, so they mean the same on every clock).
#pragma once

#include <cstdint>
#include <vector>

namespace inferd::server::ratelimit {

struct RateVerdict {
  struct Subject {
    bool requests_refused = false;
    bool tokens_refused = false;
    bool concurrency_refused = false;
    // Requests limit set: microseconds until the request budget is full again, after this
    // request when admitted (the current state when refused).
    int64_t requests_reset_us = 0;
    // Refused: microseconds until a retry could pass every refusing limit of this subject (a
    // concurrency refusal counts 0: nobody knows when a slot frees).
    int64_t retry_after_us = 0;

    bool refused() const { return requests_refused || tokens_refused || concurrency_refused; }
  };

  // True when every subject admitted: then (and only then) every subject was charged.
  bool admitted = false;
  std::vector<Subject> subjects;  // one per subject asked, in order
};

}  // namespace inferd::server::ratelimit
