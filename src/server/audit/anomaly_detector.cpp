#include "server/audit/anomaly_detector.h"

#include <algorithm>

namespace inferd::server {
namespace {

constexpr size_t kMaxTracks = 100'000;        // beyond this, idle credentials are forgotten
constexpr int64_t kForgetAfterMinutes = 24 * 60;
constexpr int64_t kMaxFoldedMinutes = 120;  // after a long gap the baseline has decayed to ~0 anyway

}  // namespace

void AnomalyDetector::advance(Track& t, int64_t minute) const {
  if (t.history_minutes == 0 && t.requests == 0) {
    t.minute = minute;
    return;
  }
  const int64_t gap = std::min(minute - t.minute, kMaxFoldedMinutes);
  for (int64_t i = 0; i < gap; ++i) {
    const double w = options_.weight;
    t.base_requests = w * static_cast<double>(t.requests) + (1 - w) * t.base_requests;
    t.base_errors = w * static_cast<double>(t.errors) + (1 - w) * t.base_errors;
    t.requests = t.errors = 0;
    t.flagged = 0;
    ++t.history_minutes;
  }
  t.minute = minute;
}

void AnomalyDetector::forget_idle(int64_t minute) {
  if (tracks_.size() < kMaxTracks) return;
  std::erase_if(tracks_, [&](const auto& kv) { return minute - kv.second.minute > kForgetAfterMinutes; });
}

AnomalyDetector::Flags AnomalyDetector::record(const std::string& credential, bool error, int64_t minute) {
  std::lock_guard<std::mutex> lock(mu_);
  forget_idle(minute);
  Track& t = tracks_[credential];
  if (minute > t.minute || (t.history_minutes == 0 && t.requests == 0)) advance(t, minute);
  ++t.requests;
  t.errors += error ? 1 : 0;
  Flags out;
  if (t.history_minutes < options_.warmup_minutes) return out;
  if (t.requests >= options_.min_requests && static_cast<double>(t.requests) > options_.factor * t.base_requests)
    out.kinds.emplace_back("request_rate");
  if (t.errors >= options_.min_errors && static_cast<double>(t.errors) > options_.factor * t.base_errors)
    out.kinds.emplace_back("error_rate");
  out.new_this_minute = out.kinds.size() > t.flagged;
  t.flagged = std::max(t.flagged, out.kinds.size());
  return out;
}

}  // namespace inferd::server
