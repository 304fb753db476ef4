#include "server/auth/api_key_store.h"

#include <gtest/gtest.h>

#include "server/auth/api_key.h"
#include "testing/redis_cluster.h"

namespace inferd::server::auth {
namespace {

class ApiKeyStoreTest : public ::testing::Test {
 protected:
  ApiKeyStoreTest() : store_(*sessions::open_kv_store("memory"), [this] { return now_; }) {}
  int64_t now_ = 1'800'000'000;
  ApiKeyStore store_;
};

TEST_F(ApiKeyStoreTest, CreatedKeysAreStoredAsHashesAndListedPerService) {
  auto vista = store_.create({.service = "vista", .name = "web", .prefix = "vista_"});
  ASSERT_TRUE(vista.ok()) << vista.status().to_string();
  ++now_;
  auto whisp = store_.create({.service = "whisp", .prefix = "whisp_", .scopes = ScopeSet::of({AuthScope::kAdmin}),
                              .limits = {.requests_per_minute = 10}});
  ASSERT_TRUE(whisp.ok());
  EXPECT_TRUE(vista->key.starts_with("vista_"));
  EXPECT_TRUE(api_key_matches(vista->record.hash, vista->key));
  const auto found = store_.find(vista->record.id);
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->service, "vista");
  EXPECT_EQ((*found)->name, "web");
  EXPECT_EQ((*found)->scopes, default_key_scopes());
  EXPECT_EQ((*found)->created_at, 1'800'000'000);
  EXPECT_EQ(api_key_record_json(**found, true).dump().find(vista->key), std::string::npos);  // never the key
  EXPECT_EQ(api_key_record_json(**found, false).dump().find("sha256"), std::string::npos);

  auto all = store_.list();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, vista->record.id);
  EXPECT_EQ((*all)[1].limits.requests_per_minute, 10);
  EXPECT_EQ(store_.list("whisp")->size(), 1u);
  EXPECT_FALSE(*store_.find("nope"));
}

TEST_F(ApiKeyStoreTest, BadSpecsAreRefusedWithTheField) {
  EXPECT_EQ(store_.create({}).status().field(), "service");
  EXPECT_EQ(store_.create({.service = "s", .scopes = ScopeSet()}).status().field(), "scopes");
  EXPECT_EQ(store_.create({.service = "s", .prefix = "BAD"}).status().field(), "prefix");
  EXPECT_EQ(store_.create({.service = "s", .limits = {.concurrent = -1}}).status().field(), "concurrent");
  EXPECT_EQ(store_.create({.service = "s", .expires_at = now_ - 1}).status().field(), "expires_at");
}

TEST_F(ApiKeyStoreTest, RotationKeepsTheOldKeyUntilTheDeadlineAndRevocationIsFinal) {
  auto old = store_.create({.service = "fork", .prefix = "fork_", .limits = {.tokens_per_minute = 500}});
  ASSERT_TRUE(old.ok());
  auto fresh = store_.rotate(old->record.id, 3600);
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
  EXPECT_EQ(fresh->record.service, "fork");
  EXPECT_EQ(fresh->record.limits.tokens_per_minute, 500);
  EXPECT_EQ(fresh->record.rotated_from, old->record.id);
  const ApiKeyRecord before = **store_.find(old->record.id);
  EXPECT_EQ(before.replaced_by, fresh->record.id);
  EXPECT_EQ(before.expires_at, now_ + 3600);
  EXPECT_FALSE(before.refusal(now_ + 3599));
  EXPECT_TRUE(before.refusal(now_ + 3600));
  EXPECT_FALSE(store_.rotate(old->record.id, -1).ok());

  auto revoked = store_.revoke(fresh->record.id);
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->revoked_at, now_);
  ASSERT_TRUE(revoked->refusal(now_));
  EXPECT_NE(revoked->refusal(now_)->find("revoked"), std::string::npos);
  EXPECT_TRUE(store_.revoke(fresh->record.id).ok());  // idempotent
  EXPECT_FALSE(store_.rotate(fresh->record.id, 0).ok());
  EXPECT_EQ(store_.revoke("missing").status().code(), StatusCode::kNotFound);
}

// A memory store whose `commit_to_spoil`-th commit finds `key` changed by someone else first.
class InterferingKvStore : public sessions::KvStore {
 public:
  InterferingKvStore() : inner_(*sessions::open_kv_store("memory")) {}
  Result<std::optional<std::string>> get(const std::string& key) override {
    return inner_->get(key);
  }
  Result<std::vector<std::optional<std::string>>> get_many(
      const std::vector<std::string>& keys) override {
    return inner_->get_many(keys);
  }
  Result<bool> commit(const std::vector<sessions::KvExpect>& expect,
                      const std::vector<sessions::KvWrite>& writes) override {
    if (++num_commits_ == commit_to_spoil) {
      auto current = inner_->get(key);
      if (current.ok() && *current)
        (void)inner_->commit({}, {sessions::KvWrite::put(key, **current + " ", 0)});
    }
    return inner_->commit(expect, writes);
  }
  Result<std::vector<std::string>> keys(const std::string& prefix) override {
    return inner_->keys(prefix);
  }
  Result<int64_t> sweep() override { return inner_->sweep(); }
  std::string describe() const override { return "interfering"; }

  int commit_to_spoil = 0;
  std::string key;

 private:
  std::shared_ptr<sessions::KvStore> inner_;
  int num_commits_ = 0;
};

TEST(ApiKeyRotationTest, ARotationThatLosesTheRaceLeavesNoNewKey) {
  auto kv = std::make_shared<InterferingKvStore>();
  ApiKeyStore store(kv);
  auto old = store.create({.service = "fork", .prefix = "fork_"});
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  kv->key = "apikey:" + old->record.id;
  kv->commit_to_spoil = 3;  // the rotation's second commit: the old key's update
  auto fresh = store.rotate(old->record.id, 60);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.status().message().find("changed during the rotation"), std::string::npos)
      << fresh.status().message();
  auto all = store.list();
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, old->record.id);
  EXPECT_EQ((*all)[0].replaced_by, "");
}

TEST(ApiKeyRotationTest, RotatesOnARedisClusterAcrossSlots) {
  testing::RedisCluster cluster;
  INFERD_REQUIRE_REDIS_CLUSTER(cluster);
  auto store = ApiKeyStore::open(cluster.url());
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  auto old = (*store)->create({.service = "fork", .prefix = "fork_"});
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  auto fresh = (*store)->rotate(old->record.id, 60);
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
  EXPECT_EQ((*(*store)->find(old->record.id))->replaced_by, fresh->record.id);
  EXPECT_EQ((*(*store)->find(fresh->record.id))->rotated_from, old->record.id);
  EXPECT_EQ((*store)->list("fork")->size(), 2u);
}

}  // namespace
}  // namespace inferd::server::auth
