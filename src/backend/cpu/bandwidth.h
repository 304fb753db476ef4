// Measurement of the machine's sustainable memory read bandwidth, the ceiling for decode speed:
// a token's forward pass reads every weight once, so tokens/s <= bandwidth / weight bytes.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace inferd::backend::cpu {

// Streams a 1 GiB buffer with wide vector loads on every pool thread and returns the best rate
// in GB/s (1e9 bytes per second). The buffer is read in 16 segments of 64 MiB, each by all
// threads at once (each its own contiguous part, read as two sequential streams); the figure is the
// best of 3 whole passes after an untimed first one. A segment is far larger than any last-level
// cache and is read again only after the whole buffer, so every read comes from memory. On a busy
// machine a descheduled thread lowers the figure: measure on a quiet one. Takes about a second,
// most of it filling the buffer.
double measure_read_bandwidth_gbps(ThreadPool& pool);

// The same with a chosen buffer size and number of timed passes. A buffer that fits in cache
// measures the cache, not memory; the overload exists for tests.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes, int passes);

}  // namespace inferd::backend::cpu
