#include "server/metrics/metric_registry.h"

#include <cmath>

#include <fmt/format.h>

#include "base/check.h"

namespace inferd::server::metrics {
namespace {

bool is_name_char(char c, bool first, bool allow_colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (allow_colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool is_valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!is_name_char(name[i], i == 0, allow_colon)) return false;
  return true;
}

void write_sample(std::string& out, std::string_view name, std::string_view suffix,
                  std::string_view labels, std::string_view extra_label, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  out += format_metric_value(value);
  out += '\n';
}

}  // namespace

const char* metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

bool is_valid_metric_name(std::string_view name) { return is_valid_name(name, true); }

bool is_valid_label_name(std::string_view name) {
  return is_valid_name(name, false) && name.substr(0, 2) != "__";
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integral values up to 2^53 print without exponent or fraction ("12345678901").
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0)
    return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);  // shortest representation that reads back exactly
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  INFERD_CHECK(start > 0 && factor > 1 && count > 0);
  std::vector<double> out;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) out.push_back(v);
  return out;
}

// ---- families ----

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, MetricType type,
                                   std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
  INFERD_CHECK_MSG(is_valid_metric_name(name_), "invalid metric name");
  for (const auto& l : label_names_) {
    INFERD_CHECK_MSG(is_valid_label_name(l), "invalid label name");
    INFERD_CHECK_MSG(!(type_ == MetricType::kHistogram && l == "le"), "label 'le' is reserved");
  }
}

size_t MetricFamilyBase::find_or_add(std::span<const std::string_view> values) {
  INFERD_CHECK_MSG(values.size() == label_names_.size(), "wrong number of label values");
  std::string key;
  for (std::string_view v : values) {
    key += v;
    key += '\0';
  }
  {
    std::shared_lock lock(mu_);
    if (auto it = index_.find(key); it != index_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) return it->second;
  std::string rendered;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) rendered += ',';
    rendered += label_names_[i];
    rendered += "=\"";
    rendered += escape_label_value(values[i]);
    rendered += '"';
  }
  add_series();
  const size_t idx = rendered_labels_.size();
  rendered_labels_.push_back(std::move(rendered));
  index_.emplace(std::move(key), idx);
  return idx;
}

void MetricFamilyBase::write(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += metric_type_name(type_);
  out += '\n';
  std::shared_lock lock(mu_);
  for (size_t i = 0; i < rendered_labels_.size(); ++i) write_series(i, rendered_labels_[i], out);
}

template <>
void MetricFamily<Counter>::write_series(size_t idx, std::string_view labels, std::string& out) const {
  write_sample(out, name(), "", labels, "", series_at(idx).value());
}

template <>
void MetricFamily<Gauge>::write_series(size_t idx, std::string_view labels, std::string& out) const {
  write_sample(out, name(), "", labels, "", series_at(idx).value());
}

template <>
void MetricFamily<Histogram>::write_series(size_t idx, std::string_view labels, std::string& out) const {
  const Histogram& h = series_at(idx);
  const Histogram::Snapshot s = h.snapshot();
  const auto bounds = h.bounds();
  for (size_t i = 0; i <= bounds.size(); ++i) {
    const std::string le =
        "le=\"" + (i < bounds.size() ? format_metric_value(bounds[i]) : std::string("+Inf")) + "\"";
    write_sample(out, name(), "_bucket", labels, le, static_cast<double>(s.cumulative[i]));
  }
  write_sample(out, name(), "_sum", labels, "", s.sum);
  write_sample(out, name(), "_count", labels, "", static_cast<double>(s.count));
}

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : MetricFamily<Histogram>(std::move(name), std::move(help), MetricType::kHistogram, std::move(label_names)),
      bounds_(std::move(bounds)) {
  INFERD_CHECK_MSG(!bounds_.empty(), "a histogram needs buckets");
  for (size_t i = 0; i < bounds_.size(); ++i) {
    INFERD_CHECK_MSG(std::isfinite(bounds_[i]), "bucket bounds must be finite");
    INFERD_CHECK_MSG(i == 0 || bounds_[i] > bounds_[i - 1], "bucket bounds must increase");
  }
}

// ---- registry ----

MetricRegistry::MetricRegistry() = default;
MetricRegistry::~MetricRegistry() = default;

MetricFamilyBase* MetricRegistry::find(std::string_view name) const {
  for (const auto& f : families_)
    if (f->name() == name) return f.get();
  return nullptr;
}

CounterFamily& MetricRegistry::counter(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (MetricFamilyBase* f = find(name)) {
    INFERD_CHECK_MSG(f->type() == MetricType::kCounter && f->label_names() == labels,
                     "metric registered twice with different shapes");
    return static_cast<CounterFamily&>(*f);
  }
  auto f = std::make_unique<CounterFamily>(std::move(name), std::move(help), MetricType::kCounter, std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

GaugeFamily& MetricRegistry::gauge(std::string name, std::string help, std::vector<std::string> labels) {
  std::lock_guard<std::mutex> lock(mu_);
  if (MetricFamilyBase* f = find(name)) {
    INFERD_CHECK_MSG(f->type() == MetricType::kGauge && f->label_names() == labels,
                     "metric registered twice with different shapes");
    return static_cast<GaugeFamily&>(*f);
  }
  auto f = std::make_unique<GaugeFamily>(std::move(name), std::move(help), MetricType::kGauge, std::move(labels));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

HistogramFamily& MetricRegistry::histogram(std::string name, std::string help, std::vector<std::string> labels,
                                           std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (MetricFamilyBase* f = find(name)) {
    INFERD_CHECK_MSG(f->type() == MetricType::kHistogram && f->label_names() == labels &&
                         static_cast<HistogramFamily*>(f)->bounds() == bounds,
                     "metric registered twice with different shapes");
    return static_cast<HistogramFamily&>(*f);
  }
  auto f = std::make_unique<HistogramFamily>(std::move(name), std::move(help), std::move(labels), std::move(bounds));
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

std::string MetricRegistry::expose() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->write(out);
  return out;
}

}  // namespace inferd::server::metrics
