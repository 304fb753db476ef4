// Metric series: one Counter, Gauge or Histogram per (metric, label values). Updates are
// lock-free (relaxed atomics) and allocate nothing, so they may sit on hot paths; a caller looks
// a series up once (MetricFamily::with) and keeps the reference, which stays valid as long as
// the registry that made it.
//
// Reads (value(), snapshot()) may run concurrently with updates; a histogram snapshot taken
// during updates may see an observation in its bucket but not yet in its sum (the exposition
// derives _count from the buckets, so count and buckets always agree).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace inferd::server::metrics {

// A monotonically increasing total.
class Counter {
 public:
  // REQUIRES: delta >= 0.
  void inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  // For totals kept elsewhere (the kernel's CPU time) and copied in at scrape time.
  void set(double total) { value_.store(total, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in buckets with upper bounds `bounds` (strictly increasing, finite) and
// an implicit +Inf bucket; an observation v falls in the first bucket with v <= bound.
class Histogram {
 public:
  // `bounds` must outlive the histogram (the family owns them).
  explicit Histogram(std::span<const double> bounds);

  // NaN observations are ignored.
  void observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::span<const double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

}  // namespace inferd::server::metrics
