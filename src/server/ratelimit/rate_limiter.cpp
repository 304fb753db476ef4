#include "server/ratelimit/rate_limiter.h"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/ratelimit/gcra.h"
#include "server/ratelimit/redis_rate_store.h"

namespace inferd::server::ratelimit {
namespace {

// Which limits each rate class counts.
struct ClassCounts {
  RateClass rate_class;
  bool requests, tokens, concurrency;
};
constexpr ClassCounts kClassCounts[] = {
    {RateClass::kUnlimited, false, false, false},
    {RateClass::kLight, true, false, false},
    {RateClass::kInference, true, true, true},
};

constexpr std::chrono::minutes kWarningInterval{1};

ClassCounts counts_of(RateClass rate_class) {
  for (const ClassCounts& c : kClassCounts)
    if (c.rate_class == rate_class) return c;
  return {rate_class, true, true, true};  // an unknown class counts everything
}

// The subjects whose limits apply to this class, each once, without the limits it does not count.
std::vector<RateSubject> effective_subjects(std::span<const RateSubject> subjects,
                                            RateClass rate_class) {
  const ClassCounts counts = counts_of(rate_class);
  std::vector<RateSubject> out;
  for (const RateSubject& s : subjects) {
    RateSubject e{s.id, {}};
    if (counts.requests) e.limits.requests_per_minute = s.limits.requests_per_minute;
    if (counts.tokens) e.limits.tokens_per_minute = s.limits.tokens_per_minute;
    if (counts.concurrency) e.limits.concurrent = s.limits.concurrent;
    if (e.limits.unlimited()) continue;
    if (std::any_of(out.begin(), out.end(), [&](const RateSubject& o) { return o.id == s.id; }))
      continue;
    out.push_back(std::move(e));
  }
  return out;
}

int64_t ceil_seconds(int64_t us) {
  return (std::max<int64_t>(0, us) + 999'999) / 1'000'000;
}

// "key k_12ab" for "key:k_12ab"; the id itself without a kind.
std::string party_name(const std::string& id) {
  const auto colon = id.find(':');
  if (colon == std::string::npos || colon == 0) return "'" + id + "'";
  return id.substr(0, colon) + " " + id.substr(colon + 1);
}

// X-RateLimit-* of the requests limit with the fewest requests left (ties: the later reset).
HeaderList rate_headers(const std::vector<RateSubject>& subjects, const RateVerdict& verdict) {
  const RateSubject* best = nullptr;
  uint32_t best_remaining = 0;
  int64_t best_reset_us = 0;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const uint32_t limit = subjects[i].limits.requests_per_minute;
    if (limit == 0) continue;
    const int64_t reset_us = verdict.subjects[i].requests_reset_us;
    const uint32_t remaining = gcra_remaining(reset_us, 0, limit);
    if (best == nullptr || remaining < best_remaining ||
        (remaining == best_remaining && reset_us > best_reset_us)) {
      best = &subjects[i];
      best_remaining = remaining;
      best_reset_us = reset_us;
    }
  }
  if (best == nullptr) return {};
  return {{"X-RateLimit-Limit", std::to_string(best->limits.requests_per_minute)},
          {"X-RateLimit-Remaining", std::to_string(best_remaining)},
          {"X-RateLimit-Reset", std::to_string(ceil_seconds(best_reset_us))}};
}

ApiError refusal(const std::vector<RateSubject>& subjects, const RateVerdict& verdict) {
  std::vector<std::string> exceeded;
  int64_t retry_after_us = 0;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const RateVerdict::Subject& v = verdict.subjects[i];
    if (!v.refused()) continue;
    const RateLimits& limits = subjects[i].limits;
    const std::string who = party_name(subjects[i].id);
    if (v.requests_refused)
      exceeded.push_back(
          fmt::format("{}: {} requests per minute", who, limits.requests_per_minute));
    if (v.tokens_refused)
      exceeded.push_back(fmt::format("{}: {} tokens per minute", who, limits.tokens_per_minute));
    if (v.concurrency_refused)
      exceeded.push_back(fmt::format("{}: {} concurrent requests", who, limits.concurrent));
    retry_after_us = std::max(retry_after_us, v.retry_after_us);
  }
  const int retry_after_s =
      static_cast<int>(std::clamp<int64_t>(ceil_seconds(retry_after_us), 1, 1 << 30));
  ApiError error = rate_limit_error(fmt::format("Rate limit reached for {}. Retry after {} s.",
                                                fmt::join(exceeded, "; "), retry_after_s),
                                    retry_after_s);
  error.headers = rate_headers(subjects, verdict);
  return error;
}

std::string random_instance_id() {
  std::random_device rd;
  const uint64_t id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{:016x}", id);
}

// Gives the concurrency slots back to the store that gave them, once.
class SlotHold {
 public:
  SlotHold(std::shared_ptr<RateStore> store, std::vector<std::string> subject_ids,
           std::string slot_id)
      : store_(std::move(store)),
        subject_ids_(std::move(subject_ids)),
        slot_id_(std::move(slot_id)) {}
  SlotHold(const SlotHold&) = delete;
  SlotHold& operator=(const SlotHold&) = delete;

  ~SlotHold() {
    const Status st = store_->release(subject_ids_, slot_id_);
    if (!st.ok())
      spdlog::warn("rate limit: a concurrency slot was not released ({}); it lapses on its own",
                   st.to_string());
  }

 private:
  const std::shared_ptr<RateStore> store_;
  const std::vector<std::string> subject_ids_;
  const std::string slot_id_;
};

}  // namespace

Result<std::unique_ptr<RateLimiter>> RateLimiter::create(RateLimiterOptions options) {
  std::shared_ptr<RedisRateStore> redis;
  if (!options.redis_url.empty()) {
    RedisRateStoreOptions store_options;
    if (sessions::is_redis_cluster_url(options.redis_url)) {
      INFERD_ASSIGN_OR_RETURN(store_options.cluster,
                              sessions::parse_redis_cluster_url(options.redis_url));
    } else {
      INFERD_ASSIGN_OR_RETURN(store_options.address, sessions::parse_redis_url(options.redis_url));
    }
    redis = std::make_shared<RedisRateStore>(
        RedisRateStoreOptions{.address = std::move(store_options.address),
                              .cluster = std::move(store_options.cluster),
                              .key_prefix = options.redis_key_prefix,
                              .timeout = options.redis_timeout,
                              .retry_interval = options.redis_retry_interval,
                              .slot_ttl = options.concurrency_slot_ttl});
  }
  std::unique_ptr<RateLimiter> limiter(new RateLimiter(std::move(options), redis));
  if (redis) {
    const Status st = redis->connect();
    limiter->redis_healthy_ = st.ok();
    if (!st.ok()) limiter->warn_fallback(st);
  }
  return limiter;
}

RateLimiter::RateLimiter(RateLimiterOptions options, std::shared_ptr<RedisRateStore> redis)
    : options_(std::move(options)),
      local_(std::make_shared<LocalRateStore>(options_.clock)),
      redis_(std::move(redis)),
      instance_id_(random_instance_id()) {}

RateLimiter::~RateLimiter() = default;

bool RateLimiter::using_redis() const {
  return redis_ != nullptr && redis_healthy_.load();
}

void RateLimiter::warn_fallback(const Status& why) {
  redis_healthy_ = false;
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t last_ns = last_warning_ns_.load();
  const int64_t interval_ns = std::chrono::nanoseconds(kWarningInterval).count();
  if (last_ns != 0 && now_ns - last_ns < interval_ns) return;
  if (!last_warning_ns_.compare_exchange_strong(last_ns, now_ns)) return;  // another thread warns
  spdlog::warn("rate limit: {}; enforcing limits in this process only until Redis answers",
               why.to_string());
}

std::variant<RateAdmission, ApiError> RateLimiter::admit(std::span<const RateSubject> subjects,
                                                         RateClass rate_class) {
  const std::vector<RateSubject> counted = effective_subjects(subjects, rate_class);
  if (counted.empty()) return RateAdmission{};
  const std::string slot_id = fmt::format("{}-{}", instance_id_, next_slot_.fetch_add(1));
  std::shared_ptr<RateStore> store = local_;
  Result<RateVerdict> verdict = internal_error("no rate store answered");
  if (redis_) {
    verdict = redis_->admit(counted, slot_id);
    if (verdict.ok()) {
      store = redis_;
      redis_healthy_ = true;
    } else {
      warn_fallback(verdict.status());
    }
  }
  if (!verdict.ok()) verdict = local_->admit(counted, slot_id);
  if (!verdict.ok()) {
    spdlog::error("rate limit: {}", verdict.status().to_string());
    return server_error(std::string(kInternalErrorMessage));
  }
  if (!verdict->admitted) return refusal(counted, *verdict);
  RateAdmission admission;
  admission.headers = rate_headers(counted, *verdict);
  std::vector<std::string> slot_subjects;
  for (const RateSubject& s : counted)
    if (s.limits.concurrent > 0) slot_subjects.push_back(s.id);
  if (!slot_subjects.empty()) {
    admission.hold =
        std::make_shared<const SlotHold>(std::move(store), std::move(slot_subjects), slot_id);
  }
  return admission;
}

void RateLimiter::charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) {
  const std::vector<RateSubject> counted = effective_subjects(subjects, RateClass::kInference);
  if (tokens == 0 || counted.empty()) return;
  if (redis_) {
    const Status st = redis_->charge_tokens(counted, tokens);
    if (st.ok()) return;
    warn_fallback(st);
  }
  (void)local_->charge_tokens(counted, tokens);
}

}  // namespace inferd::server::ratelimit
