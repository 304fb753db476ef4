#include "backend/cpu/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <initializer_list>

#include "backend/cpu/bandwidth_kernels.h"
#include "base/aligned_buffer.h"
#include "base/check.h"
#include "base/cpu_features.h"

namespace inferd::backend::cpu {
namespace {

constexpr int kDefaultPasses = 3;
constexpr size_t kSegments = 16;  // 64 MiB each in the default probe
constexpr size_t kPage = 4096;    // each thread's part starts on its own page

uint64_t read_two_scalar(const uint8_t* a, const uint8_t* b, size_t bytes) {
  uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (size_t i = 0; i < bytes; i += 32) {
    for (const uint8_t* p : {a, b}) {
      uint64_t v[4];
      std::memcpy(v, p + i, 32);
      a0 ^= v[0];
      a1 ^= v[1];
      a2 ^= v[2];
      a3 ^= v[3];
    }
  }
  return a0 ^ a1 ^ a2 ^ a3;
}

void fill_distinct(uint8_t* p, size_t bytes) {
  uint64_t state = 0x243F6A8885A308D3ull;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::memcpy(p + i, &state, 8);
  }
}

using ReadFn = uint64_t (*)(const uint8_t*, const uint8_t*, size_t);

// Indexed by IsaLevel.
constexpr ReadFn kReaders[] = {read_two_scalar, avx2::read_two, avx512::read_two};

// Reads pages [p0, p1) of `base` as two sequential streams (its halves, read in turn): one core
// reads memory faster with two streams in flight than with one (10-15% on the development
// machine when the memory system is otherwise idle), so one stream would understate the ceiling.
uint64_t read_pages(ReadFn read, const uint8_t* base, int64_t p0, int64_t p1) {
  const int64_t half = (p1 - p0) / 2;
  uint64_t v = read(base + p0 * kPage, base + (p0 + half) * kPage, half * kPage);
  if ((p1 - p0) % 2) {
    const uint8_t* last = base + (p1 - 1) * kPage;
    v ^= read(last, last + kPage / 2, kPage / 2);
  }
  return v;
}

}  // namespace

ReadBandwidthProbe::ReadBandwidthProbe(size_t buffer_bytes) {
  const size_t num_pages = std::max<size_t>(buffer_bytes / kPage, kSegments);
  segment_pages_ = num_pages / kSegments;
  buffer_.resize(segment_pages_ * kSegments * kPage);
  fill_distinct(buffer_.data(), buffer_.size_bytes());
}

double ReadBandwidthProbe::pass_gbps(ThreadPool& pool) {
  if (!warm_) {
    timed_pass(pool);
    warm_ = true;
  }
  return static_cast<double>(buffer_.size_bytes()) / timed_pass(pool) / 1e9;
}

// Seconds for one pass, one segment per parallel region (the regions' start-up is not timed).
double ReadBandwidthProbe::timed_pass(ThreadPool& pool) {
  const ReadFn read = kReaders[static_cast<int>(cpu_features().level)];
  std::atomic<uint64_t> sink{0};  // the read values go somewhere, so the loads stay
  double seconds = 0.0;
  for (size_t seg = 0; seg < kSegments; ++seg) {
    const uint8_t* base = buffer_.data() + seg * segment_pages_ * kPage;
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int idx, int num) {
      const auto [p0, p1] = ThreadPool::split(static_cast<int64_t>(segment_pages_), idx, num);
      sink.fetch_xor(read_pages(read, base, p0, p1), std::memory_order_relaxed);
    });
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return seconds;
}

double measure_read_bandwidth_gbps(ThreadPool& pool) {
  return measure_read_bandwidth_gbps(pool, kReadProbeBytes, kDefaultPasses);
}

double measure_read_bandwidth_gbps(ThreadPool& pool, size_t buffer_bytes, int passes) {
  INFERD_CHECK(passes >= 1);
  ReadBandwidthProbe probe(buffer_bytes);
  double best = 0.0;  // the best full pass: a sustained figure, not the luckiest segment
  for (int pass = 0; pass < passes; ++pass) best = std::max(best, probe.pass_gbps(pool));
  return best;
}

}  // namespace inferd::backend::cpu
