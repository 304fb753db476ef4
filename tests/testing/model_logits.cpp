#include "testing/model_logits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/thread_pool.h"
#include "model/kv_cache.h"

namespace inferd::testing {

std::vector<float> last_logits(const model::Model& m) {
  constexpr int kTokens = 40, kLogits = 3;
  const model::HParams& hp = m.hparams();
  model::KvCache kv(hp, 4, 16, 1);
  const std::vector<int32_t> blocks{0, 1, 2, 3};  // outlives the forward pass
  kv.set_table(0, blocks);
  model::ForwardScratch scratch(hp, kTokens, 64, 2);
  ThreadPool pool(2);
  std::vector<model::BatchToken> batch;
  for (int i = 0; i < kTokens; ++i)
    batch.push_back({.token = 100 + 7 * i, .pos = i, .seq = 0, .want_logits = i >= kTokens - kLogits});
  std::vector<float> logits(static_cast<size_t>(kLogits * hp.n_vocab));
  const Status st = m.transformer().forward(batch, kv, scratch, pool, logits.data());
  EXPECT_TRUE(st.ok()) << st.to_string();
  return st.ok() ? logits : std::vector<float>{};
}

std::vector<float> last_logits(const std::filesystem::path& path) {
  auto m = model::Model::load(path.string());
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return m.ok() ? last_logits(**m) : std::vector<float>{};
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace inferd::testing
