// Every KvStore implementation against the same contract: values, expiry on read, sweep,
// atomic commits guarded by expectations, prefix listing; SQLite data outlives the store object;
// Redis runs against a private redis-server, Redis Cluster against a private 3-node cluster.
// Each commit's keys share the hash tag {g} (one cluster slot), as the contract asks.
#include "server/sessions/kv_store.h"

#include <thread>

#include <gtest/gtest.h>

#include "server/sessions/redis_kv_store.h"
#include "testing/redis_cluster.h"
#include "testing/redis_server.h"
#include "testing/test_paths.h"

namespace inferd::server::sessions {
namespace {

class KvStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url = GetParam();
    if (url == "redis") {
      redis_ = std::make_unique<testing::RedisServer>();
      INFERD_REQUIRE_REDIS(*redis_);
      url = redis_->url();
    } else if (url == "redis_cluster") {
      if (!cluster_) cluster_ = std::make_unique<testing::RedisCluster>();
      INFERD_REQUIRE_REDIS_CLUSTER(*cluster_);
      ASSERT_TRUE(cluster_->flush_all());
      url = cluster_->url();
    } else if (url == "sqlite") {
      url = "sqlite:" + (testing::temp_dir() / "kv" / "store.db").string();
    }
    auto s = open_kv_store(url);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    store_ = *s;
  }
  std::unique_ptr<testing::RedisServer> redis_;
  static void TearDownTestSuite() { cluster_.reset(); }
  static inline std::unique_ptr<testing::RedisCluster> cluster_;  // shared by the suite
  std::shared_ptr<KvStore> store_;
};

TEST_P(KvStoreTest, PutGetEraseAndPrefixListing) {
  ASSERT_TRUE(*store_->commit(
      {}, {KvWrite::put("a:1{g}", "one", 0), KvWrite::put("a:2{g}", std::string("t\0o", 3), 0),
           KvWrite::put("b:1{g}", "x", 0)}));
  EXPECT_EQ(store_->get("a:1{g}")->value(), "one");
  EXPECT_EQ(store_->get("a:2{g}")->value(), std::string("t\0o", 3));
  EXPECT_FALSE(store_->get("a:3{g}")->has_value());
  auto many = store_->get_many({"a:2{g}", "zz{g}", "a:1{g}"});
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 3u);
  EXPECT_EQ((*many)[0], std::string("t\0o", 3));
  EXPECT_FALSE((*many)[1].has_value());
  EXPECT_EQ((*many)[2], "one");
  EXPECT_EQ(*store_->keys("a:"), (std::vector<std::string>{"a:1{g}", "a:2{g}"}));
  ASSERT_TRUE(*store_->commit({}, {KvWrite::erase("a:1{g}")}));
  EXPECT_FALSE(store_->get("a:1{g}")->has_value());
  EXPECT_EQ(*store_->keys("a:"), (std::vector<std::string>{"a:2{g}"}));
}

TEST_P(KvStoreTest, ExpectationsGuardCommits) {
  // Absent-key expectation: the first creator wins.
  ASSERT_TRUE(*store_->commit({{"k{g}", std::nullopt}}, {KvWrite::put("k{g}", "v1", 0)}));
  EXPECT_FALSE(*store_->commit({{"k{g}", std::nullopt}}, {KvWrite::put("k{g}", "other", 0)}));
  // Value expectation: a stale writer changes nothing, not even its other keys.
  EXPECT_FALSE(*store_->commit({{"k{g}", "stale"}},
                               {KvWrite::put("k{g}", "v2", 0), KvWrite::put("side{g}", "s", 0)}));
  EXPECT_EQ(store_->get("k{g}")->value(), "v1");
  EXPECT_FALSE(store_->get("side{g}")->has_value());
  EXPECT_TRUE(*store_->commit({{"k{g}", "v1"}},
                              {KvWrite::put("k{g}", "v2", 0), KvWrite::put("side{g}", "s", 0)}));
  EXPECT_EQ(store_->get("k{g}")->value(), "v2");
  EXPECT_EQ(store_->get("side{g}")->value(), "s");
}

TEST_P(KvStoreTest, ConcurrentCompareAndSetLosesNoIncrement) {
  ASSERT_TRUE(*store_->commit({}, {KvWrite::put("n{g}", "0", 0)}));
  auto worker = [&] {
    for (int i = 0; i < 50; ++i) {
      for (;;) {
        const std::string cur = store_->get("n{g}")->value();
        if (*store_->commit({{"n{g}", cur}},
                            {KvWrite::put("n{g}", std::to_string(std::stoi(cur) + 1), 0)}))
          break;
      }
    }
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  EXPECT_EQ(store_->get("n{g}")->value(), "100");
}

TEST_P(KvStoreTest, ExpiredEntriesAreInvisibleAndSwept) {
  const int64_t soon = unix_now_ms() + 300;
  ASSERT_TRUE(
      *store_->commit({}, {KvWrite::put("t:short{g}", "s", soon), KvWrite::put("t:long{g}", "l", 0),
                           KvWrite::put("t:moved{g}", "m", soon)}));
  ASSERT_TRUE(*store_->commit(
      {}, {KvWrite::expire("t:moved{g}", 0), KvWrite::expire("t:absent{g}", soon)}));
  EXPECT_EQ(store_->get("t:short{g}")->value(), "s");
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_FALSE(store_->get("t:short{g}")->has_value());
  EXPECT_EQ(*store_->keys("t:"), (std::vector<std::string>{"t:long{g}", "t:moved{g}"}));
  // An expired key counts as absent for expectations.
  EXPECT_TRUE(*store_->commit({{"t:short{g}", std::nullopt}}, {}));
  EXPECT_FALSE(store_->get("t:absent{g}")->has_value());
  const auto swept = store_->sweep();
  ASSERT_TRUE(swept.ok()) << swept.status().to_string();
  // Redis expires entries itself; the other stores remove them in the sweep.
  if (GetParam().rfind("redis", 0) != 0) {
    EXPECT_EQ(*swept, 1);
  }
  EXPECT_FALSE(store_->get("t:short{g}")->has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, KvStoreTest,
                         ::testing::Values("memory", "sqlite", "redis", "redis_cluster"),
                         [](const auto& info) { return info.param; });

TEST(SqliteKvStoreTest, DataOutlivesTheStoreObject) {
  const std::string url = "sqlite:" + (testing::temp_dir() / "durable.db").string();
  {
    auto s = open_kv_store(url);
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    ASSERT_TRUE(*(*s)->commit({}, {KvWrite::put("session:x", "{}", 0)}));
  }
  auto s = open_kv_store(url);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->get("session:x")->value(), "{}");
}

TEST(SqliteKvStoreTest, AFileThatIsNotADatabaseIsAnError) {
  const auto path = testing::temp_dir() / "garbage.db";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  std::fputs(
      "this is not an SQLite database, just some text that is long enough to have a header.....",
      f);
  std::fclose(f);
  auto s = open_kv_store("sqlite:" + path.string());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path.string()), std::string::npos) << s.status().message();
}

TEST(KvStoreUrlTest, UnknownSchemesAndBadRedisUrlsAreErrors) {
  EXPECT_FALSE(open_kv_store("mongodb://x").ok());
  EXPECT_FALSE(open_kv_store("sqlite:").ok());
  EXPECT_FALSE(parse_redis_url("redis://h:0").ok());
  EXPECT_FALSE(parse_redis_url("redis://h:6379/db").ok());
  auto a = parse_redis_url("redis://:secret@cache.local:6380/3");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "cache.local");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 3);
  EXPECT_EQ(a->password, "secret");
  auto d = parse_redis_url("redis://");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "127.0.0.1");
  EXPECT_EQ(d->port, 6379);
  // Nothing listens on port 1.
  EXPECT_FALSE(open_kv_store("redis://127.0.0.1:1").ok());
}

}  // namespace
}  // namespace inferd::server::sessions
