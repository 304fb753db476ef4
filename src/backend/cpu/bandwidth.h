// Measurement of the machine's sustainable memory read bandwidth, the ceiling for decode speed:
// a token's forward pass reads every weight once, so tokens/s <= bandwidth / weight bytes.
#pragma once

#include <cstddef>

#include "base/thread_pool.h"

namespace inferd::backend::cpu {

// Streams a 1 GiB buffer (far larger than any last-level cache) with wide vector loads on every
// pool thread, each thread reading its own contiguous part, and returns the best of several
// passes in GB/s (1e9 bytes per second). Takes about a second, most of it filling the buffer.
double measure_read_bandwidth_gbps(ThreadPool& pool);

// The same with a chosen buffer size and number of passes. A buffer that fits in cache measures
// the cache, not memory; the overload exists for tests.
double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes, int passes);

}  // namespace inferd::backend::cpu
