#include "inferd/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace inferd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

uint64_t draw_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

}  // namespace

Result<Sampler> Sampler::create(const SamplingParams& params, int vocab_size) {
  INFERD_RETURN_IF_ERROR(params.validate(vocab_size));
  return Sampler(params, vocab_size);
}

Sampler::Sampler(const SamplingParams& params, int vocab_size)
    : params_(params),
      vocab_size_(vocab_size),
      seed_(params.seed ? *params.seed : draw_seed()),
      rng_(seed_),
      window_(vocab_size, params.has_penalties() ? params.penalty_last_n : 0),
      candidates_(static_cast<size_t>(vocab_size)) {
  INFERD_CHECK_MSG(params.validate(vocab_size).ok(), "Sampler built from invalid SamplingParams");
}

void Sampler::feed_prompt(std::span<const TokenId> tokens) {
  for (TokenId t : tokens) accept(t);
}

void Sampler::accept(TokenId token) {
  INFERD_CHECK(token >= 0 && token < vocab_size_);
  window_.push(token);
}

void Sampler::load_adjusted(std::span<const float> logits) {
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const float x = logits[i];
    candidates_[i] = {std::isnan(x) ? kNegInf : x, static_cast<TokenId>(i)};
  }
  for (const auto& [id, bias] : params_.logit_bias)
    candidates_[static_cast<size_t>(id)].logit += bias;
  if (!params_.has_penalties()) return;
  const float rep = params_.repetition_penalty;
  for (const TokenWindow::Entry& e : window_.distinct()) {
    float& l = candidates_[static_cast<size_t>(e.id)].logit;
    if (rep != 1.0f) l = l > 0.0f ? l / rep : l * rep;
    l -= params_.presence_penalty + params_.frequency_penalty * static_cast<float>(e.count);
  }
}

TokenId Sampler::pick_greedy() const {
  size_t best = 0;
  for (size_t i = 1; i < candidates_.size(); ++i)
    if (candidates_[i].logit > candidates_[best].logit) best = i;
  return candidates_[best].id;
}

double Sampler::uniform01() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

TokenId Sampler::sample(std::span<const float> logits) {
  INFERD_CHECK(logits.size() == candidates_.size());
  load_adjusted(logits);
  TokenId chosen = 0;
  if (params_.is_greedy()) {
    chosen = pick_greedy();
  } else {
    const double u = uniform01();
    const size_t n = drop_impossible();
    chosen = n == 0 ? 0 : draw(filter(n), u);
  }
  if (params_.wants_logprobs())
    last_logprobs_ = token_logprobs(logits, chosen, params_.num_top_logprobs);
  return chosen;
}

namespace {
// Higher value first, then the lower id: a strict total order, so every filter is deterministic.
struct RanksBefore {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  }
};
}  // namespace

size_t Sampler::apply_top_k(size_t n) {
  const auto k = static_cast<size_t>(params_.top_k);
  if (k == 0 || k >= n) return n;
  std::nth_element(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   candidates_.begin() + static_cast<std::ptrdiff_t>(n), RanksBefore{});
  return k;
}

size_t Sampler::apply_top_p(size_t n, double total) {
  // The kept set is the shortest prefix of the candidates in RanksBefore order whose mass reaches
  // top_p * total. Nothing is sorted beyond what is needed to find it: the best few first (most
  // of the mass usually sits there), then bisection with nth_element over the rest, O(n).
  constexpr size_t kSortedHead = 64;
  const auto at = [this](size_t i) { return candidates_.begin() + static_cast<std::ptrdiff_t>(i); };
  double need = static_cast<double>(params_.top_p) * total;

  const size_t head = std::min(n, kSortedHead);
  std::partial_sort(at(0), at(head), at(n), RanksBefore{});
  for (size_t i = 0; i < head; ++i) {
    need -= candidates_[i].logit;
    if (need <= 0.0) return i + 1;
  }
  // Invariant: [0, lo) is kept and ranks before [lo, hi); the answer lies in (lo, hi].
  size_t lo = head, hi = n;
  while (hi - lo > kSortedHead) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(at(lo), at(mid), at(hi), RanksBefore{});
    double mass = 0.0;
    for (size_t i = lo; i < mid; ++i) mass += candidates_[i].logit;
    if (mass >= need) {
      hi = mid;
    } else {
      need -= mass;
      lo = mid;
    }
  }
  std::sort(at(lo), at(hi), RanksBefore{});
  for (size_t i = lo; i < hi; ++i) {
    need -= candidates_[i].logit;
    if (need <= 0.0) return i + 1;
  }
  return hi;  // rounding: the mass of [lo, hi) fell a hair short of what was needed
}

size_t Sampler::apply_min_p(size_t n) {
  // The most likely token has unnormalised probability exactly 1 (see filter()), so the
  // threshold min_p * p_max is min_p itself; it always survives.
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i)
    if (candidates_[i].logit >= params_.min_p) candidates_[kept++] = candidates_[i];
  return kept;
}

size_t Sampler::drop_impossible() {
  // Masked tokens and tokens biased to -inf never survive the softmax; dropping them first
  // also shrinks the work of every filter.
  size_t n = 0;
  for (size_t i = 0; i < candidates_.size(); ++i)
    if (candidates_[i].logit > kNegInf) candidates_[n++] = candidates_[i];
  return n;
}

size_t Sampler::filter(size_t n) {
  n = apply_top_k(n);

  // Temperature and softmax, relative to the maximum: the best token gets exactly 1.
  float max_logit = kNegInf;
  for (size_t i = 0; i < n; ++i) max_logit = std::max(max_logit, candidates_[i].logit);
  const float inv_temperature = 1.0f / params_.temperature;
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    float& v = candidates_[i].logit;
    v = v == max_logit ? 1.0f : std::exp((v - max_logit) * inv_temperature);
    total += v;
  }

  if (params_.top_p < 1.0f) n = apply_top_p(n, total);
  if (params_.min_p > 0.0f) n = apply_min_p(n);
  return n;
}

TokenId Sampler::draw(size_t n, double u) const {
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += candidates_[i].logit;
  const double target = u * total;
  double cum = 0.0;
  size_t last_possible = 0;
  for (size_t i = 0; i < n; ++i) {
    if (candidates_[i].logit <= 0.0f) continue;
    cum += candidates_[i].logit;
    last_possible = i;
    if (cum > target) return candidates_[i].id;
  }
  return candidates_[last_possible].id;  // rounding left target at the very end
}

std::vector<TokenProb> Sampler::distribution(std::span<const float> logits) {
  INFERD_CHECK(logits.size() == candidates_.size());
  load_adjusted(logits);
  if (params_.is_greedy()) return {{pick_greedy(), 1.0f}};
  size_t n = drop_impossible();
  if (n == 0) return {{0, 1.0f}};
  n = filter(n);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += candidates_[i].logit;
  std::vector<TokenProb> out;
  for (size_t i = 0; i < n; ++i)
    if (candidates_[i].logit > 0.0f)
      out.push_back({candidates_[i].id, static_cast<float>(candidates_[i].logit / total)});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

void Sampler::adjusted_logits(std::span<const float> logits, std::span<float> out) {
  INFERD_CHECK(logits.size() == candidates_.size() && out.size() == candidates_.size());
  load_adjusted(logits);
  for (size_t i = 0; i < out.size(); ++i) out[i] = candidates_[i].logit;
}

}  // namespace inferd
