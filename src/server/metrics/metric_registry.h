// MetricRegistry: named metric families with label sets, exposed in the Prometheus text format
// 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
//   MetricRegistry reg;
//   auto& requests = reg.counter("inferd_requests_total", "Requests answered.", {"endpoint", "status"});
//   Counter& ok = requests.with({"/v1/completions", "200"});   // look up once, keep the reference
//   ok.inc();                                                    // lock-free from then on
//   std::string text = reg.expose();
//
// Names follow Prometheus' rules (metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*,
// no "__" prefix, "le" reserved for histograms); they are constants of the code, so a bad one
// is a broken invariant (INFERD_CHECK). Registering a name again returns the existing family when
// type, labels (and buckets) agree, and is a broken invariant otherwise.
//
// Families are written in registration order, series in the order they were first used.
// Thread safety: every method may be called from any thread. with() takes a shared lock (an
// exclusive one the first time a label set is seen); series updates take none.
#pragma once

#include <deque>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "server/metrics/metric.h"

namespace inferd::server::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };
const char* metric_type_name(MetricType type);  // "counter", "gauge", "histogram"

class MetricFamilyBase {
 public:
  MetricFamilyBase(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names);
  virtual ~MetricFamilyBase() = default;
  MetricFamilyBase(const MetricFamilyBase&) = delete;
  MetricFamilyBase& operator=(const MetricFamilyBase&) = delete;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Appends HELP, TYPE and every series.
  void write(std::string& out) const;

 protected:
  // REQUIRES: label_values.size() == label_names().size(). Returns the series index.
  size_t find_or_add(std::span<const std::string_view> label_values);
  virtual void add_series() = 0;  // under the exclusive lock
  virtual void write_series(size_t idx, std::string_view labels, std::string& out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, size_t> index_;  // joined label values -> series index
  std::vector<std::string> rendered_labels_;       // `a="x",b="y"` per series
};

template <typename Series>
class MetricFamily : public MetricFamilyBase {
 public:
  using MetricFamilyBase::MetricFamilyBase;
  // The series of these label values (one per label name, in order), created at zero.
  Series& with(std::initializer_list<std::string_view> label_values) {
    return with(std::span<const std::string_view>(label_values.begin(), label_values.size()));
  }
  Series& with(std::span<const std::string_view> label_values) {
    const size_t idx = find_or_add(label_values);
    std::shared_lock lock(series_mu_);
    return *series_[idx];
  }

 protected:
  void add_series() override {
    std::unique_lock lock(series_mu_);
    series_.push_back(make());
  }
  void write_series(size_t idx, std::string_view labels, std::string& out) const override;
  // A new series at zero; HistogramFamily overrides it to pass its buckets.
  virtual std::unique_ptr<Series> make() {
    if constexpr (std::is_default_constructible_v<Series>) {
      return std::make_unique<Series>();
    } else {
      return nullptr;
    }
  }

  const Series& series_at(size_t idx) const {
    std::shared_lock lock(series_mu_);
    return *series_[idx];
  }

 private:
  mutable std::shared_mutex series_mu_;
  std::deque<std::unique_ptr<Series>> series_;
};

template <>
void MetricFamily<Counter>::write_series(size_t idx, std::string_view labels, std::string& out) const;
template <>
void MetricFamily<Gauge>::write_series(size_t idx, std::string_view labels, std::string& out) const;
template <>
void MetricFamily<Histogram>::write_series(size_t idx, std::string_view labels, std::string& out) const;

class HistogramFamily : public MetricFamily<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  std::unique_ptr<Histogram> make() override { return std::make_unique<Histogram>(bounds_); }

 private:
  const std::vector<double> bounds_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;

class MetricRegistry {
 public:
  MetricRegistry();
  ~MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  CounterFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  // REQUIRES: `bounds` non-empty, finite and strictly increasing.
  HistogramFamily& histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);

  // Every family in the text format 0.0.4 (Content-Type kPrometheusContentType).
  std::string expose() const;

 private:
  MetricFamilyBase* find(std::string_view name) const;  // REQUIRES: mu_ held
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MetricFamilyBase>> families_;
};

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Text-format helpers (exposed for tests).
std::string format_metric_value(double value);         // "1", "0.25", "+Inf", "NaN"
std::string escape_label_value(std::string_view value);  // \ " and newline escaped
std::string escape_help(std::string_view help);          // \ and newline escaped
bool is_valid_metric_name(std::string_view name);
bool is_valid_label_name(std::string_view name);

// Buckets from `start`, each `factor` times the previous, `count` of them.
std::vector<double> exponential_buckets(double start, double factor, int count);

}  // namespace inferd::server::metrics
