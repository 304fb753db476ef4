#include "kv/block_pool.h"

#include <random>

#include <gtest/gtest.h>

#include "kv/sequence_blocks.h"

namespace inferd::kv {
namespace {

std::vector<TokenId> iota_tokens(int n, TokenId first = 0) {
  std::vector<TokenId> t(n);
  for (int i = 0; i < n; ++i) t[i] = first + i;
  return t;
}

TEST(BlockPoolTest, AllocateUntilExhaustedThenReleaseFrees) {
  BlockPool pool(3, 4);
  std::vector<BlockId> got;
  for (int i = 0; i < 3; ++i) got.push_back(*pool.allocate());
  EXPECT_FALSE(pool.allocate());
  EXPECT_EQ(pool.counts().used, 3);
  pool.retain(got[0]);
  pool.release(got[0]);
  EXPECT_EQ(pool.counts().used, 3);
  for (BlockId b : got) pool.release(b);
  EXPECT_EQ(pool.counts().free, 3);
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPoolTest, PublishedBlocksAreCachedAfterReleaseAndFoundByTokens) {
  BlockPool pool(2, 4);
  const auto toks = iota_tokens(4);
  const BlockHash h = chain_hash(kRootHash, toks);
  const BlockId b = *pool.allocate();
  pool.publish(b, h, toks);
  pool.release(b);
  EXPECT_EQ(pool.counts().cached, 1);
  EXPECT_TRUE(pool.check_invariants());
  // Same hash, other tokens (a collision): not found.
  EXPECT_FALSE(pool.lookup(h, iota_tokens(4, 1)));
  const auto hit = pool.lookup(h, toks);
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, b);
  EXPECT_EQ(pool.counts().used, 1);
  EXPECT_EQ(pool.counts().hits, 1);
  EXPECT_EQ(pool.counts().queries, 2);
  pool.release(b);
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPoolTest, EvictsTheLeastRecentlyReleasedCachedBlock) {
  BlockPool pool(2, 2);
  const BlockId a = *pool.allocate(), b = *pool.allocate();
  const std::vector<TokenId> ta = {1, 2}, tb = {3, 4};
  pool.publish(a, chain_hash(kRootHash, ta), ta);
  pool.publish(b, chain_hash(kRootHash, tb), tb);
  pool.release(b);  // b first: least recently released
  pool.release(a);
  const BlockId fresh = *pool.allocate();
  EXPECT_EQ(fresh, b);
  EXPECT_FALSE(pool.lookup(chain_hash(kRootHash, tb), tb));
  EXPECT_TRUE(pool.lookup(chain_hash(kRootHash, ta), ta));
  EXPECT_TRUE(pool.check_invariants());
}

TEST(BlockPoolTest, ChainHashDependsOnTheWholePrefix) {
  const auto t = iota_tokens(4);
  EXPECT_NE(chain_hash(kRootHash, t), chain_hash(chain_hash(kRootHash, t), t));
  EXPECT_NE(chain_hash(kRootHash, std::vector<TokenId>{1, 2}), chain_hash(kRootHash, std::vector<TokenId>{2, 1}));
}

TEST(SequenceBlocksTest, SecondSequenceReusesTheFirstOnesFullBlocks) {
  BlockPool pool(16, 4);
  const auto prompt = iota_tokens(10);
  SequenceBlocks first;
  EXPECT_EQ(first.adopt_cached_prefix(pool, prompt, 9), 0);
  ASSERT_TRUE(first.reserve(pool, 10));
  first.append(pool, prompt);
  EXPECT_EQ(first.table().size(), 3u);

  SequenceBlocks second;
  // At most 9 tokens may come from the cache (the last prompt token is always evaluated).
  EXPECT_EQ(second.adopt_cached_prefix(pool, prompt, 9), 8);
  EXPECT_EQ(second.table()[0], first.table()[0]);
  EXPECT_EQ(second.table()[1], first.table()[1]);
  first.release(pool);
  EXPECT_EQ(pool.counts().used, 2);  // still held by the second
  second.release(pool);
  EXPECT_EQ(pool.counts().cached, 2);
  EXPECT_EQ(pool.counts().free, 14);
  EXPECT_TRUE(pool.check_invariants());

  // A different second block: only the first is reused.
  auto other = prompt;
  other[5] = 99;
  SequenceBlocks third;
  EXPECT_EQ(third.adopt_cached_prefix(pool, other, 9), 4);
  third.release(pool);
  EXPECT_TRUE(pool.check_invariants());
}

TEST(SequenceBlocksTest, RandomWorkloadKeepsTheAccountingInvariant) {
  std::mt19937 rng(7);
  BlockPool pool(24, 4);
  std::vector<SequenceBlocks> seqs(5);
  for (int step = 0; step < 3000; ++step) {
    SequenceBlocks& s = seqs[rng() % seqs.size()];
    switch (rng() % 4) {
      case 0: s.release(pool); break;
      case 1:
        if (s.num_tokens() == 0) {
          std::vector<TokenId> p(rng() % 20 + 1);
          for (auto& t : p) t = rng() % 3;  // few distinct tokens: many shared prefixes
          s.adopt_cached_prefix(pool, p, static_cast<int64_t>(p.size()) - 1);
        }
        break;
      default: {
        const int n = rng() % 6 + 1;
        if (!s.reserve(pool, s.num_tokens() + n)) break;
        std::vector<TokenId> t(n);
        for (auto& x : t) x = rng() % 3;
        s.append(pool, t);
      }
    }
    ASSERT_TRUE(pool.check_invariants()) << "step " << step;
  }
  for (auto& s : seqs) s.release(pool);
  EXPECT_EQ(pool.counts().used, 0);
  EXPECT_TRUE(pool.check_invariants());
}

}  // namespace
}  // namespace inferd::kv
