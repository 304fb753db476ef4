// Scheduling order of sequences: which waiting request is admitted next and which running
// sequence gives its KV blocks up when they run out. Higher priority first, then earlier
// arrival; preemption takes the opposite end (lowest priority, latest arrival), so the work that
// the most important and oldest requests have done is kept.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace inferd::sched {

struct SequenceRank {
  int priority = 0;      // higher runs first
  uint64_t arrival = 0;  // submission order
};

// True when `a` should be served before `b`.
inline bool served_before(const SequenceRank& a, const SequenceRank& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.arrival < b.arrival;
}

// The index of the candidate to admit next (the first in serving order); nothing when empty.
std::optional<size_t> next_to_admit(std::span<const SequenceRank> waiting);

// The index of the candidate to preempt (the last in serving order); nothing when empty.
std::optional<size_t> preemption_victim(std::span<const SequenceRank> candidates);

}  // namespace inferd::sched
