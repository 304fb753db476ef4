// RateStore: where rate-limit state lives (in process, or in Redis for several servers).
//
// The limits given to each call are the ones that apply to this request (the limiter zeroes the
// ones its rate class does not count), so a store applies every non-zero limit it is given.
// Thread safety: every method may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"
#include "server/ratelimit/rate_limits.h"
#include "server/ratelimit/rate_verdict.h"

namespace inferd::server::ratelimit {

class RateStore {
 public:
  virtual ~RateStore() = default;

  // All or nothing: checks every subject's request, token and concurrency limits and, only when
  // all of them admit, charges one request to each subject with a requests limit and takes a
  // concurrency slot named `slot_id` from each subject with a concurrency limit. REQUIRES: ids
  // distinct. Errors: the store is unreachable (nothing was charged).
  virtual Result<RateVerdict> admit(std::span<const RateSubject> subjects,
                                    std::string_view slot_id) = 0;

  // Gives back the slot `slot_id` taken from each of `subject_ids` by admit().
  virtual Status release(std::span<const std::string> subject_ids, std::string_view slot_id) = 0;

  // Charges `tokens` to each subject with a tokens limit (no check: see gcra.h).
  virtual Status charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) = 0;
};

}  // namespace inferd::server::ratelimit
