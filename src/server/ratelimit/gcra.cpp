#include "server/ratelimit/gcra.h"

#include <algorithm>

namespace inferd::server::ratelimit {

int64_t emission_interval_us(uint64_t per_minute) {
  const uint64_t w = static_cast<uint64_t>(kRateWindowUs);
  return static_cast<int64_t>((w + per_minute - 1) / per_minute);
}

GcraStep gcra_request(int64_t tat_us, int64_t now_us, uint32_t per_minute) {
  const int64_t interval_us = emission_interval_us(per_minute);
  const int64_t new_tat_us = std::max(tat_us, now_us) + interval_us;
  const int64_t tolerance_us = interval_us * static_cast<int64_t>(per_minute);
  if (new_tat_us - now_us <= tolerance_us) return {true, new_tat_us, 0};
  return {false, tat_us, new_tat_us - now_us - tolerance_us};
}

uint32_t gcra_remaining(int64_t tat_us, int64_t now_us, uint32_t per_minute) {
  const int64_t interval_us = emission_interval_us(per_minute);
  const int64_t room_us =
      interval_us * static_cast<int64_t>(per_minute) - gcra_reset_us(tat_us, now_us);
  if (room_us <= 0) return 0;
  return static_cast<uint32_t>(std::min<int64_t>(room_us / interval_us, per_minute));
}

int64_t gcra_reset_us(int64_t tat_us, int64_t now_us) {
  return std::max<int64_t>(0, tat_us - now_us);
}

int64_t charge_token_tat(int64_t tat_us, int64_t now_us, uint64_t tokens,
                         uint64_t tokens_per_minute) {
  const unsigned __int128 cost_us =
      (static_cast<unsigned __int128>(tokens) * static_cast<uint64_t>(kRateWindowUs) +
       tokens_per_minute - 1) /
      tokens_per_minute;
  const int64_t from_us = std::max(tat_us, now_us);
  const int64_t cap_us = now_us + kMaxTokenDebtUs;
  if (cost_us >= static_cast<unsigned __int128>(cap_us - std::min(from_us, cap_us))) return cap_us;
  return from_us + static_cast<int64_t>(cost_us);
}

int64_t token_retry_after_us(int64_t tat_us, int64_t now_us) {
  const int64_t spent_by_us = tat_us - now_us - kRateWindowUs;
  return spent_by_us >= 0 ? spent_by_us + 1 : 0;
}

}  // namespace inferd::server::ratelimit
