// Measurement of the machine's sustainable memory read bandwidth, the ceiling for decode speed:
// a token's forward pass reads every weight once, so tokens/s <= bandwidth / weight bytes.
#pragma once

#include <cstddef>

#include "base/aligned_buffer.h"
#include "base/thread_pool.h"

namespace inferd::backend::cpu {

// A buffer of distinct pseudo-random pages (so reads hit real memory, not a shared zero page or
// pages merged by content deduplication) and timed passes over it. Passes can be spread over a
// longer measurement, such as before and after each repetition of a decode benchmark, so that
// the bandwidth is compared with work done at the same time: on a machine whose memory is shared
// with other tenants the rate can move by 2x within seconds.
class ReadBandwidthProbe {
 public:
  // Allocates and fills buffer_bytes (rounded to whole pages, at least 16 of them). The first
  // pass_gbps() reads the buffer once untimed before its timed pass (the end of the buffer may
  // still be cached from the fill).
  explicit ReadBandwidthProbe(size_t buffer_bytes);
  // Reads the whole buffer once on every pool thread and returns the rate in GB/s (1e9 bytes per
  // second). The buffer is read in 16 segments, each by all threads at once (each its own
  // contiguous part, read as two sequential streams). Keep the buffer far larger than the
  // last-level cache: a segment is read again only after the whole buffer.
  double pass_gbps(ThreadPool& pool);

 private:
  double timed_pass(ThreadPool& pool);

  size_t segment_pages_ = 0;
  AlignedBuffer buffer_;
  bool warm_ = false;
};

// The default probe's buffer: 1 GiB, in 16 segments of 64 MiB.
inline constexpr size_t kReadProbeBytes = size_t{1} << 30;

// The best of 3 passes of a ReadBandwidthProbe of kReadProbeBytes with wide vector loads on every
// pool thread, in GB/s: every read comes from memory. On a busy machine a descheduled thread
// lowers the figure: measure on a quiet one. Takes about a second, most of it filling the buffer.
double measure_read_bandwidth_gbps(ThreadPool& pool);

// The same with a chosen buffer size and number of timed passes. A buffer that fits in cache
// measures the cache, not memory; the overload exists for tests.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes, int passes);

}  // namespace inferd::backend::cpu
