#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace inferd::model {
namespace {

HParams small_hparams() {
  HParams hp;
  hp.n_layer = 3;
  hp.n_head_kv = 2;
  hp.head_dim_k = 8;
  hp.head_dim_v = 16;
  return hp;
}

// Marks every f16 element of (layer, seq, pos, head) with a value naming it.
uint16_t mark(int64_t layer, int64_t pos, int64_t head, int64_t i, bool value) {
  return static_cast<uint16_t>((value << 15) | (layer << 12) | (head << 11) | (pos << 5) | i);
}

void fill(KvCache& kv, const HParams& hp, int64_t seq, int64_t positions) {
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (int64_t p = 0; p < positions; ++p)
      for (int64_t h = 0; h < hp.n_head_kv; ++h) {
        auto* k = reinterpret_cast<uint16_t*>(kv.k(l, seq, p, h));
        auto* v = reinterpret_cast<uint16_t*>(kv.v(l, seq, p, h));
        for (int64_t i = 0; i < hp.head_dim_k; ++i) k[i] = mark(l, p, h, i, false);
        for (int64_t i = 0; i < hp.head_dim_v; ++i) v[i] = mark(l, p, h, i, true);
      }
}

TEST(KvCache, AHeadsRowsAreOneRunAcrossBlocksOfConsecutiveIds) {
  const HParams hp = small_hparams();
  KvCache kv(hp, /*num_blocks=*/8, /*block_size=*/4, /*max_seqs=*/1);
  const std::vector<int32_t> table = {2, 3, 4, 0, 6, 7};  // runs: blocks 2-4, 0, 6-7
  kv.set_table(0, table);
  fill(kv, hp, 0, 24);
  EXPECT_EQ(kv.run_positions(0, 0, 24), 12);
  EXPECT_EQ(kv.run_positions(0, 5, 19), 7);
  EXPECT_EQ(kv.run_positions(0, 5, 3), 3);
  EXPECT_EQ(kv.run_positions(0, 12, 12), 4);
  EXPECT_EQ(kv.run_positions(0, 17, 7), 7);
  // Within a run, a head's rows at consecutive positions are key_head_bytes apart.
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (int64_t h = 0; h < hp.n_head_kv; ++h)
      for (int64_t start : {0, 12, 16}) {
        const int64_t n = kv.run_positions(0, start, 24 - start);
        for (int64_t p = start; p < start + n; ++p) {
          EXPECT_EQ(kv.k(l, 0, p, h), kv.k(l, 0, start, h) + (p - start) * kv.key_head_bytes());
          EXPECT_EQ(kv.v(l, 0, p, h), kv.v(l, 0, start, h) + (p - start) * kv.value_head_bytes());
        }
      }
  // Distinct (layer, position, head) never share memory: every mark reads back.
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (int64_t p = 0; p < 24; ++p)
      for (int64_t h = 0; h < hp.n_head_kv; ++h) {
        EXPECT_EQ(reinterpret_cast<const uint16_t*>(kv.k(l, 0, p, h))[3], mark(l, p, h, 3, false));
        EXPECT_EQ(reinterpret_cast<const uint16_t*>(kv.v(l, 0, p, h))[15], mark(l, p, h, 15, true));
      }
}

TEST(KvCache, ABlockIsReadAndWrittenInLayerHeadPositionOrder) {
  const HParams hp = small_hparams();
  KvCache kv(hp, 4, 4, 2);
  const std::vector<int32_t> a = {1, 3}, b = {2, 0};
  kv.set_table(0, a);
  kv.set_table(1, b);
  fill(kv, hp, 0, 8);
  std::vector<uint8_t> keys(kv.block_key_bytes()), values(kv.block_value_bytes());
  ASSERT_EQ(keys.size(), size_t{3 * 4} * kv.key_row_bytes());
  kv.read_block(3, keys, values);  // positions 4-7 of sequence 0
  const auto* k = reinterpret_cast<const uint16_t*>(keys.data());
  const auto* v = reinterpret_cast<const uint16_t*>(values.data());
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (int64_t h = 0; h < hp.n_head_kv; ++h)
      for (int64_t p = 0; p < 4; ++p) {
        const int64_t row = (l * hp.n_head_kv + h) * 4 + p;
        for (int64_t i = 0; i < hp.head_dim_k; ++i) EXPECT_EQ(k[row * hp.head_dim_k + i], mark(l, 4 + p, h, i, false));
        for (int64_t i = 0; i < hp.head_dim_v; ++i) EXPECT_EQ(v[row * hp.head_dim_v + i], mark(l, 4 + p, h, i, true));
      }
  // Written into block 0 (sequence 1's positions 4-7), it reads back the same, and block 2 is
  // untouched.
  kv.write_block(0, keys, values);
  for (int64_t l = 0; l < hp.n_layer; ++l)
    for (int64_t p = 4; p < 8; ++p)
      for (int64_t h = 0; h < hp.n_head_kv; ++h) {
        EXPECT_EQ(std::memcmp(kv.k(l, 1, p, h), kv.k(l, 0, p, h), kv.key_head_bytes()), 0);
        EXPECT_EQ(std::memcmp(kv.v(l, 1, p, h), kv.v(l, 0, p, h), kv.value_head_bytes()), 0);
        EXPECT_EQ(reinterpret_cast<const uint16_t*>(kv.k(l, 1, p - 4, h))[0], 0);
      }
}

}  // namespace
}  // namespace inferd::model
