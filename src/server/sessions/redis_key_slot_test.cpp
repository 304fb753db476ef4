// Key slots against the published CRC16 check value and slots that a Redis 7 cluster node
// answered to CLUSTER KEYSLOT.
#include "server/sessions/redis_key_slot.h"

#include <gtest/gtest.h>

#include "server/sessions/session_record.h"

namespace inferd::server::sessions {
namespace {

TEST(RedisKeySlotTest, Crc16MatchesTheXmodemCheckValue) {
  EXPECT_EQ(redis_crc16("123456789"), 0x31C3);
  EXPECT_EQ(redis_crc16(""), 0);
}

TEST(RedisKeySlotTest, SlotsMatchWhatARedisNodeAnswers) {
  const std::pair<std::string_view, uint16_t> known[] = {
      {"123456789", 12739},
      {"foo", 12182},
      {"bar", 5061},
      {"session:abc", 14788},
      {"session_messages:{session:abc}:00000001", 14788},
      {"{user1000}.following", 3443},
      {"foo{}{bar}", 8363},     // an empty first tag: the whole key is hashed
      {"foo{{bar}}zap", 4015},  // the tag is "{bar"
      {"foo{bar}{zap}", 5061},  // only the first tag counts: slot of "bar"
      {"{}", 15257},
      {"", 0},
      {"apikey:k_1", 7621},
  };
  for (const auto& [key, slot] : known) EXPECT_EQ(redis_key_slot(key), slot) << key;
}

TEST(RedisKeySlotTest, HashTags) {
  EXPECT_EQ(redis_hashed_part("a{b}c"), "b");
  EXPECT_EQ(redis_hashed_part("a{}c"), "a{}c");
  EXPECT_EQ(redis_hashed_part("a{bc"), "a{bc");
  EXPECT_EQ(redis_hashed_part("a}b{c}"), "c");
}

TEST(RedisKeySlotTest, ASessionsKeysShareTheRecordsSlot) {
  const uint16_t slot = redis_key_slot(record_key("0123abcd"));
  EXPECT_EQ(redis_key_slot(message_key("0123abcd", 0)), slot);
  EXPECT_EQ(redis_key_slot(message_key("0123abcd", 99)), slot);
}

}  // namespace
}  // namespace inferd::server::sessions
