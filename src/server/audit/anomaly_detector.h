// AnomalyDetector: flags a credential whose request rate or error rate in the current minute is
// far above its own baseline, an exponentially weighted average of its earlier minutes (idle
// minutes count as zero). Nothing is flagged until a credential has `warmup_minutes` of history,
// and small counts never are (min_requests, min_errors), so a quiet key waking up is not an
// anomaly but a key that usually sends 10 requests a minute and now sends 200 is.
//
// Thread safety: record() may be called from any number of threads.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace inferd::server {

struct AnomalyOptions {
  double factor = 5.0;        // this many times the baseline ...
  int64_t min_requests = 30;  // ... and at least this many requests in the minute: "request_rate"
  int64_t min_errors = 10;    // errors (status >= 400) likewise: "error_rate"
  int64_t warmup_minutes = 5;
  double weight = 0.2;  // of the newest minute in the baseline
};

class AnomalyDetector {
 public:
  explicit AnomalyDetector(AnomalyOptions options = {}) : options_(options) {}

  struct Flags {
    std::vector<std::string> kinds;  // "request_rate", "error_rate"; empty when none
    bool new_this_minute = false;    // a kind not flagged before in this minute
  };
  // Counts one finished request of `credential` (e.g. "vista/k_12ab") in minute `minute` (any
  // monotonic minute number) and returns the anomalies of that minute so far.
  Flags record(const std::string& credential, bool error, int64_t minute);

 private:
  struct Track {
    int64_t minute = 0;
    int64_t requests = 0, errors = 0;
    double base_requests = 0, base_errors = 0;
    int64_t history_minutes = 0;
    size_t flagged = 0;  // kinds flagged so far in `minute`
  };
  void advance(Track& t, int64_t minute) const;
  void forget_idle(int64_t minute);

  const AnomalyOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Track> tracks_;
};

}  // namespace inferd::server
