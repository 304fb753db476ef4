// GCRA (generic cell rate algorithm) on microsecond clocks: the arithmetic every rate store
// shares (the Redis store's Lua script mirrors it line for line).
//
// A per-minute limit L has the emission interval T = ceil(60 s / L) and a burst of L: a subject's
// state is its theoretical arrival time (TAT). A request at `now` is admitted when
// max(TAT, now) + T - now <= L * T, and then TAT becomes max(TAT, now) + T. So a fresh subject
// admits exactly L requests at once, then one every T; a quiet subject is full again at TAT.
//
// Tokens use the same state with a cost of ceil(n * 60 s / tokens_per_minute) per charge of n
// tokens. Token counts are known only after an answer, so they are charged without a check, and
// a subject is refused while its token budget is spent (TAT - now >= 60 s, i.e. a whole minute's
// tokens used). An admitted request can thus overshoot the budget by its own tokens.
#pragma once

#include <cstdint>

namespace inferd::server::ratelimit {

inline constexpr int64_t kRateWindowUs = 60'000'000;  // every limit is per minute

// ceil(kRateWindowUs / per_minute). REQUIRES: per_minute > 0.
int64_t emission_interval_us(uint64_t per_minute);

struct GcraStep {
  bool admitted = false;
  int64_t tat_us = 0;          // the TAT after the step (unchanged when refused)
  int64_t retry_after_us = 0;  // refused: how long until the same request would be admitted
};

// One request at `now_us` against `tat_us` for a limit of `per_minute` (> 0).
GcraStep gcra_request(int64_t tat_us, int64_t now_us, uint32_t per_minute);

// Requests a subject at `tat_us` could still make at `now_us`, in [0, per_minute].
uint32_t gcra_remaining(int64_t tat_us, int64_t now_us, uint32_t per_minute);

// Microseconds until a subject at `tat_us` has its whole budget again (>= 0).
int64_t gcra_reset_us(int64_t tat_us, int64_t now_us);

// A token TAT never runs further ahead of now than this (about 31 years): huge charges saturate.
inline constexpr int64_t kMaxTokenDebtUs = 1'000'000'000'000'000;

// The token TAT after charging `tokens` at `now_us` against `tokens_per_minute` (> 0).
int64_t charge_token_tat(int64_t tat_us, int64_t now_us, uint64_t tokens,
                         uint64_t tokens_per_minute);

// 0 while the token budget has room; otherwise how long until it has room again (> 0).
int64_t token_retry_after_us(int64_t tat_us, int64_t now_us);

}  // namespace inferd::server::ratelimit
