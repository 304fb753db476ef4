// How the threads of a single-token matmul on panels divide the panels (matmul.cpp).
//
// Thread t owns the panels ThreadPool::split(total, t, num) and reads them as `streams`
// contiguous parts in step (PanelOps::streams): step i < steps reads panel i of every part, and
// the panels past the parts, fewer than `streams`, are one last step. The owner claims its steps
// from the front; a thread done with its own claims the others' steps from the back, one at a
// time. On a quiet machine each thread thus reads its share as a few long sequential streams,
// which a core fetches faster than many short ones (measured on the 1.1B model with 2 threads:
// decode 4-14% faster than when shrinking runs of panels were handed out from a shared counter),
// and a thread slowed by the machine is still helped at the end.
#pragma once

#include <atomic>
#include <cstdint>

namespace inferd::backend::cpu {

struct DecodeShare {
  int64_t first = 0;  // the parts: panels [first, rest), `steps` panels each
  int64_t steps = 0;
  int64_t rest = 0;  // the last, shorter step: panels [rest, end)
  int64_t end = 0;
  int streams = 1;

  // REQUIRES max_streams >= 1.
  DecodeShare(int64_t total, int idx, int num, int max_streams);
  int64_t num_steps() const { return steps + (rest < end ? 1 : 0); }
  // Writes the panels of step `step` (< num_steps()) to out and returns their number
  // (<= streams).
  int panels(int64_t step, int64_t* out) const;
};

// The unclaimed steps [front, back) of one share in region `gen`, kept in one word (the low 16
// bits of gen, then back and front, 24 bits each) so that the owner and the other threads claim
// steps without overlap. REQUIRES 0 <= front, back < 2^24.
uint64_t unclaimed_steps(uint32_t gen, int64_t front, int64_t back);

// Claims the first (from_back: the last) unclaimed step of `word` in region `gen`; false when
// none is left. A word last used by another region (its generation differs) first becomes
// unclaimed_steps(gen, 0, num_steps), whichever thread finds it so: successive regions reuse the
// words without anyone resetting them in between, as long as no two successive regions on a word
// have the same generation.
bool claim_step(std::atomic_ref<uint64_t> word, uint32_t gen, int64_t num_steps, bool from_back,
                int64_t* step);

}  // namespace inferd::backend::cpu
