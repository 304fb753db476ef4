#include "server/ratelimit/local_rate_store.h"

#include <algorithm>

#include "server/ratelimit/gcra.h"

namespace inferd::server::ratelimit {

LocalRateStore::LocalRateStore(SteadyClock clock) : clock_(std::move(clock)) {}

int64_t LocalRateStore::now_us() const {
  const auto now = clock_ ? clock_() : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
}

Result<RateVerdict> LocalRateStore::admit(std::span<const RateSubject> subjects,
                                          std::string_view /*slot_id*/) {
  RateVerdict verdict;
  verdict.subjects.resize(subjects.size());
  std::vector<GcraStep> steps(subjects.size());
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_us();
  bool admitted = true;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const RateLimits& limits = subjects[i].limits;
    RateVerdict::Subject& v = verdict.subjects[i];
    const auto it = subjects_.find(subjects[i].id);
    const SubjectState state = it == subjects_.end() ? SubjectState{} : it->second;
    if (limits.requests_per_minute > 0) {
      steps[i] = gcra_request(state.requests_tat_us, now, limits.requests_per_minute);
      v.requests_refused = !steps[i].admitted;
      v.retry_after_us = steps[i].retry_after_us;
    }
    if (limits.tokens_per_minute > 0) {
      const int64_t retry_us = token_retry_after_us(state.tokens_tat_us, now);
      v.tokens_refused = retry_us > 0;
      v.retry_after_us = std::max(v.retry_after_us, retry_us);
    }
    if (limits.concurrent > 0) v.concurrency_refused = state.in_flight >= limits.concurrent;
    admitted = admitted && !v.refused();
  }
  verdict.admitted = admitted;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const RateLimits& limits = subjects[i].limits;
    if (limits.requests_per_minute == 0 && limits.concurrent == 0) {
      continue;  // nothing to charge; a tokens limit is charged after the answer
    }
    auto it = subjects_.find(subjects[i].id);
    const int64_t tat_us = it == subjects_.end() ? 0 : it->second.requests_tat_us;
    if (!admitted) {
      verdict.subjects[i].requests_reset_us = gcra_reset_us(tat_us, now);
      continue;
    }
    if (it == subjects_.end()) it = subjects_.emplace(subjects[i].id, SubjectState{}).first;
    if (limits.requests_per_minute > 0) it->second.requests_tat_us = steps[i].tat_us;
    if (limits.concurrent > 0) ++it->second.in_flight;
    verdict.subjects[i].requests_reset_us = gcra_reset_us(it->second.requests_tat_us, now);
  }
  if (++admits_since_sweep_ >= kSweepEvery) sweep_locked(now);
  return verdict;
}

Status LocalRateStore::release(std::span<const std::string> subject_ids,
                               std::string_view /*slot_id*/) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& id : subject_ids) {
    const auto it = subjects_.find(id);
    if (it != subjects_.end() && it->second.in_flight > 0) --it->second.in_flight;
  }
  return {};
}

Status LocalRateStore::charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) {
  if (tokens == 0) return {};
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = now_us();
  for (const RateSubject& s : subjects) {
    if (s.limits.tokens_per_minute == 0) continue;
    SubjectState& state = subjects_[s.id];
    state.tokens_tat_us =
        charge_token_tat(state.tokens_tat_us, now, tokens, s.limits.tokens_per_minute);
  }
  return {};
}

size_t LocalRateStore::num_tracked_subjects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subjects_.size();
}

void LocalRateStore::sweep_locked(int64_t now_us) {
  admits_since_sweep_ = 0;
  std::erase_if(subjects_, [now_us](const auto& entry) {
    const SubjectState& s = entry.second;
    return s.in_flight == 0 && s.requests_tat_us <= now_us && s.tokens_tat_us <= now_us;
  });
}

}  // namespace inferd::server::ratelimit
