#include "server/auth/api_key_store.h"

#include <gtest/gtest.h>

#include "server/auth/api_key.h"

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

}  // namespace
}  // namespace inferd::server::auth
