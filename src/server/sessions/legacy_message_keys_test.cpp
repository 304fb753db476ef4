// Messages stored under the key layout before hash tags move to the current keys when a
// session store opens: the conversation reads back whole, with the record's expiry, and legacy
// messages of a session that is gone are erased.
#include "server/sessions/legacy_message_keys.h"

#include <gtest/gtest.h>

#include "server/sessions/session_service.h"
#include "testing/test_paths.h"

namespace inferd::server::sessions {
namespace {

TEST(LegacyMessageKeysTest, MovesMessagesToTheHashTaggedKeys) {
  const std::string url = "sqlite:" + (testing::temp_dir() / "legacy.db").string();
  auto store = open_kv_store(url);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  SessionRecord r;
  r.session_id = "old-1";
  r.sandbox_id = "default";
  r.created_at_ms = r.last_accessed_ms = unix_now_ms();
  r.expires_at_ms = unix_now_ms() + 3'600'000;
  r.ttl_s = 3600;
  r.message_count = 2;
  const Json user = {{"role", "user"}, {"content", "hi"}};
  const Json answer = {{"role", "assistant"}, {"content", "hello"}};
  ASSERT_TRUE(*(*store)->commit(
      {}, {KvWrite::put(record_key("old-1"), dump_json(record_json(r)), r.expires_at_ms),
           KvWrite::put(legacy_message_key("old-1", 0), dump_json(user), r.expires_at_ms),
           KvWrite::put(legacy_message_key("old-1", 1), dump_json(answer), r.expires_at_ms),
           KvWrite::put(legacy_message_key("gone", 0), dump_json(user), 0)}));

  SessionOptions o;
  o.store_url = url;
  o.sweep_interval_s = 0;
  auto service = SessionService::open(o);  // migrates
  ASSERT_TRUE(service.ok()) << service.status().to_string();
  auto c = (*service)->load(Caller{}, "old-1");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->messages.size(), 2u);
  EXPECT_EQ(c->messages[0], user);
  EXPECT_EQ(c->messages[1], answer);
  EXPECT_EQ(*(*store)->keys("session_messages:"),
            (std::vector<std::string>{message_key("old-1", 0), message_key("old-1", 1)}));
  // Nothing is left to move.
  EXPECT_EQ(*migrate_legacy_message_keys(**store), 0);
}

}  // namespace
}  // namespace inferd::server::sessions
