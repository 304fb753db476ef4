#include "sched/sequence_priority.h"

namespace inferd::sched {

std::optional<size_t> next_to_admit(std::span<const SequenceRank> waiting) {
  std::optional<size_t> best;
  for (size_t i = 0; i < waiting.size(); ++i)
    if (!best || served_before(waiting[i], waiting[*best])) best = i;
  return best;
}

std::optional<size_t> preemption_victim(std::span<const SequenceRank> candidates) {
  std::optional<size_t> worst;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!worst || served_before(candidates[*worst], candidates[i])) worst = i;
  return worst;
}

}  // namespace inferd::sched
