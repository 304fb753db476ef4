// LocalRateStore: rate-limit state in this process, on an injectable steady clock.
//
// Thread safety: one mutex guards every subject's state, so a check and its charges are one
// step that no other thread can interleave (no overshoot under any concurrency).
// Memory: a subject whose budgets are full again and that holds no slot is forgotten (swept
// every kSweepEvery admissions), so the state grows with active subjects only.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/ratelimit/rate_store.h"

namespace inferd::server::ratelimit {

using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

class LocalRateStore : public RateStore {
 public:
  // `clock` unset: std::chrono::steady_clock::now.
  explicit LocalRateStore(SteadyClock clock = {});

  Result<RateVerdict> admit(std::span<const RateSubject> subjects,
                            std::string_view slot_id) override;
  Status release(std::span<const std::string> subject_ids, std::string_view slot_id) override;
  Status charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) override;

  // Subjects with state now (for tests of the sweep).
  size_t num_tracked_subjects() const;

 private:
  static constexpr uint32_t kSweepEvery = 4096;

  struct SubjectState {
    int64_t requests_tat_us = 0;
    int64_t tokens_tat_us = 0;
    uint32_t in_flight = 0;
  };

  int64_t now_us() const;
  // REQUIRES: mu_ held.
  void sweep_locked(int64_t now_us);

  const SteadyClock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, SubjectState> subjects_;
  uint32_t admits_since_sweep_ = 0;
};

}  // namespace inferd::server::ratelimit
