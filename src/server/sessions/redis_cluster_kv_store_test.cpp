// RedisClusterKvStore on a private 3-node Redis Cluster: keys spread over every node and are all
// listed, commits across slots are refused whole, a slot that moves (MOVED) or is moving (ASK)
// is followed, and a killed node fails only the calls for its slots, quickly. (The KvStore
// contract itself runs on the cluster in kv_store_test.cpp.)
#include "server/sessions/redis_cluster_kv_store.h"

#include <chrono>

#include <gtest/gtest.h>

#include "server/sessions/redis_key_slot.h"
#include "testing/redis_cluster.h"

namespace inferd::server::sessions {
namespace {

using namespace std::chrono_literals;

class RedisClusterKvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<testing::RedisCluster>();
    INFERD_REQUIRE_REDIS_CLUSTER(*cluster_);
    auto options = parse_redis_cluster_url(cluster_->url());
    ASSERT_TRUE(options.ok()) << options.status().to_string();
    options->timeout = 2s;
    auto s = RedisClusterKvStore::open(*options);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = *s;
  }

  // A key named `stem` plus a number whose slot node `node` serves.
  std::string key_on(int node, const std::string& stem) const {
    for (int i = 0;; ++i) {
      std::string k = stem + std::to_string(i);
      if (cluster_->owner_of(redis_key_slot(k)) == node) return k;
    }
  }

  std::unique_ptr<testing::RedisCluster> cluster_;
  std::shared_ptr<RedisClusterKvStore> store_;
};

TEST_F(RedisClusterKvStoreTest, KeysSpreadOverEveryNodeAndAreAllListed) {
  std::vector<std::string> keys;
  for (int i = 0; i < 60; ++i) {
    keys.push_back("spread:" + std::to_string(100 + i));
    ASSERT_TRUE(*store_->commit({}, {KvWrite::put(keys.back(), "v" + std::to_string(i), 0)}));
  }
  for (int node = 0; node < cluster_->num_nodes(); ++node)
    EXPECT_GT(std::stoi(cluster_->command(node, {"DBSIZE"})), 0) << "node " << node;
  EXPECT_EQ(*store_->keys("spread:"), keys);
  auto values = store_->get_many(keys);
  ASSERT_TRUE(values.ok()) << values.status().to_string();
  for (int i = 0; i < 60; ++i) EXPECT_EQ((*values)[i], "v" + std::to_string(i));
  EXPECT_EQ(store_->describe(), cluster_->url());
}

TEST_F(RedisClusterKvStoreTest, ACommitAcrossSlotsIsRefusedAndWritesNothing) {
  const std::string a = key_on(0, "cross:a"), b = key_on(1, "cross:b");
  ASSERT_NE(redis_key_slot(a), redis_key_slot(b));
  auto done =
      store_->commit({{a, std::nullopt}}, {KvWrite::put(a, "1", 0), KvWrite::put(b, "2", 0)});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kInternal);
  EXPECT_NE(done.status().message().find("hash slots"), std::string::npos)
      << done.status().message();
  EXPECT_FALSE(store_->get(a)->has_value());
  EXPECT_FALSE(store_->get(b)->has_value());
  // The same keys with one hash tag commit together.
  EXPECT_TRUE(
      *store_->commit({}, {KvWrite::put("{t}" + a, "1", 0), KvWrite::put("{t}" + b, "2", 0)}));
}

TEST_F(RedisClusterKvStoreTest, FollowsASlotThatMoved) {
  const std::string k = key_on(0, "moving:");
  const uint16_t slot = redis_key_slot(k);
  ASSERT_TRUE(*store_->commit({}, {KvWrite::put(k, "before", 0)}));
  ASSERT_TRUE(cluster_->move_slot(slot, 2));  // the store's map is now stale
  EXPECT_EQ(store_->get(k)->value(), "before");
  ASSERT_TRUE(*store_->commit({{k, "before"}}, {KvWrite::put(k, "after", 0)}));
  EXPECT_EQ(cluster_->command(2, {"GET", k}), "after");
  EXPECT_EQ(cluster_->command(0, {"CLUSTER", "COUNTKEYSINSLOT", std::to_string(slot)}), "0");
  // Keys of other slots on the old node are unaffected.
  const std::string other = key_on(0, "staying:");
  ASSERT_TRUE(*store_->commit({}, {KvWrite::put(other, "x", 0)}));
  EXPECT_EQ(cluster_->command(0, {"GET", other}), "x");
}

TEST_F(RedisClusterKvStoreTest, FollowsASlotInMigration) {
  const std::string k = key_on(1, "asked:");
  const uint16_t slot = redis_key_slot(k);
  const std::string s = std::to_string(slot);
  ASSERT_TRUE(cluster_->begin_slot_migration(slot, 0));
  // A key the old owner lacks is written on the importing node (ASK, then ASKING).
  ASSERT_TRUE(*store_->commit({{k, std::nullopt}}, {KvWrite::put(k, "new", 0)}));
  EXPECT_EQ(cluster_->command(1, {"CLUSTER", "COUNTKEYSINSLOT", s}), "0");
  EXPECT_EQ(store_->get(k)->value(), "new");
  EXPECT_EQ(store_->get_many({k})->at(0), "new");
  ASSERT_TRUE(cluster_->finish_slot_migration(slot, 1, 0));
  EXPECT_EQ(cluster_->command(0, {"GET", k}), "new");
  EXPECT_EQ(store_->get(k)->value(), "new");
}

TEST_F(RedisClusterKvStoreTest, AKilledNodeFailsItsSlotsQuicklyAndTheRestWorks) {
  std::vector<std::string> keys;
  for (int node = 0; node < 3; ++node) {
    keys.push_back(key_on(node, "alive:"));
    ASSERT_TRUE(*store_->commit({}, {KvWrite::put(keys.back(), "v", 0)}));
  }
  cluster_->kill(2);
  const auto start = std::chrono::steady_clock::now();
  auto lost = store_->get(keys[2]);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kIo);
  EXPECT_FALSE(store_->commit({}, {KvWrite::put(keys[2], "w", 0)}).ok());
  EXPECT_FALSE(store_->keys("alive:").ok());  // a listing cannot be complete
  EXPECT_FALSE(store_->get_many(keys).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  // Slots on live nodes keep working, through the same store.
  EXPECT_EQ(store_->get(keys[0])->value(), "v");
  EXPECT_TRUE(*store_->commit({{keys[1], "v"}}, {KvWrite::put(keys[1], "w", 0)}));
  EXPECT_EQ(store_->get(keys[1])->value(), "w");
  auto two = store_->get_many({keys[0], keys[1]});
  ASSERT_TRUE(two.ok()) << two.status().to_string();
  EXPECT_EQ((*two)[1], "w");
}

TEST(RedisClusterUrlTest, ParsesSeedsAndPasswordAndRefusesBadUrls) {
  auto o =
      parse_redis_cluster_url("redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  ASSERT_EQ(o->seeds.size(), 3u);
  EXPECT_EQ(o->seeds[0].name(), "10.0.0.1:7000");
  EXPECT_EQ(o->seeds[1].port, 7001);
  EXPECT_EQ(o->seeds[2].host, "::1");
  EXPECT_EQ(o->password, "secret");
  for (const char* bad : {"redis+cluster://", "redis+cluster://h", "redis+cluster://h:0",
                          "redis+cluster://h:7000,", "redis+cluster://h:7000/1", "redis://h:1"})
    EXPECT_EQ(parse_redis_cluster_url(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  // Nothing listens on ports 1 and 2.
  auto s = open_kv_store("redis+cluster://127.0.0.1:1,127.0.0.1:2");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kIo);
}

TEST(RedisClusterUrlTest, AServerNotInClusterModeIsAClearError) {
  testing::RedisServer plain;
  INFERD_REQUIRE_REDIS(plain);
  auto s = open_kv_store("redis+cluster://127.0.0.1:" + std::to_string(plain.port()));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not in cluster mode"), std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace inferd::server::sessions
