// Session records and their formats: ISO-8601 times, the record's JSON (chuk-sessions fields
// first), ids, If-Match values and usage key escaping.
#include "server/sessions/session_record.h"

#include <set>

#include <gtest/gtest.h>

#include "server/sessions/chat_session_turn.h"
#include "server/sessions/iso8601.h"
#include "server/sessions/session_usage.h"

namespace inferd::server::sessions {
namespace {

TEST(Iso8601Test, FormatsAndParsesUtcTimes) {
  EXPECT_EQ(format_iso8601(0), "1970-01-01T00:00:00.000000+00:00");
  EXPECT_EQ(format_iso8601(1'795'000'123'456), "2026-11-18T11:08:43.456000+00:00");
  EXPECT_EQ(utc_day(1'795'000'123'456), "2026-11-18");
  for (int64_t t : {int64_t{0}, int64_t{1'795'000'123'456}, int64_t{951'782'400'999}})
    EXPECT_EQ(parse_iso8601(format_iso8601(t)), t);
  EXPECT_EQ(parse_iso8601("2026-11-18T11:08:43Z"), 1'795'000'123'000);
  EXPECT_EQ(parse_iso8601("2026-11-18T12:08:43.456+01:00"), 1'795'000'123'456);
  EXPECT_EQ(parse_iso8601("2026-11-18 11:08:43.4567891Z"), 1'795'000'123'456);
  for (const char* bad :
       {"", "2026-11-18", "2026-11-18T10:15:23", "2026-02-30T00:00:00Z", "2026-11-18T25:00:00Z",
        "2026-11-18T10:15:23.Z", "2026-11-18T10:15:23+0100", "2026-11-18T10:15:23Zjunk"})
    EXPECT_FALSE(parse_iso8601(bad).has_value()) << bad;
}

TEST(SessionRecordTest, JsonRoundTripWithChukSessionsFieldsFirst) {
  SessionRecord r;
  r.session_id = "abc";
  r.sandbox_id = "svc";
  r.service = "svc";
  r.user_id = "u";
  r.created_at_ms = 1'795'000'000'000;
  r.last_accessed_ms = r.created_at_ms + 5;
  r.expires_at_ms = r.created_at_ms + 3'600'000;
  r.custom_metadata = {{"k", "v"}};
  r.version = 4;
  r.message_count = 6;
  r.ttl_s = 3600;
  r.system_prompt = "be kind";
  r.parameters = {{"temperature", 0.5}};
  r.parent_session_id = "root";
  r.parent_message_count = 2;
  const Json j = record_json(r);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  const std::vector<std::string> chuk = {"session_id", "sandbox_id",     "user_id",
                                         "created_at", "expires_at",     "last_accessed",
                                         "status",     "custom_metadata"};
  EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + 8), chuk);
  auto back = record_from_json(j);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(record_json(*back), j);

  Json bad = j;
  bad["created_at"] = 5;
  EXPECT_EQ(record_from_json(bad).status().field(), "created_at");
  bad = j;
  bad["version"] = 0;
  EXPECT_EQ(record_from_json(bad).status().field(), "version");
  bad = j;
  bad["session_id"] = "../x";
  EXPECT_FALSE(record_from_json(bad).ok());
}

TEST(SessionRecordTest, IdsAreRandomHexAndClientIdsAreChecked) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = new_session_id();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->size(), 32u);
    EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_TRUE(valid_session_id("chat-2026.11_a"));
  for (const char* bad : {"", ".hidden", "a/b", "a b", "usage", "templates", "import"})
    EXPECT_FALSE(valid_session_id(bad)) << bad;
  EXPECT_FALSE(valid_session_id(std::string(129, 'a')));
  EXPECT_EQ(record_key("x"), "session:x");
  EXPECT_EQ(message_key("x", 42), "session_messages:{session:x}:00000042");
  EXPECT_EQ(legacy_message_key("x", 42), "session_messages:x:00000042");
}

TEST(SessionRecordTest, IfMatchValuesAndUsageKeyParts) {
  EXPECT_EQ(parse_if_match("\"7\""), 7);
  EXPECT_EQ(parse_if_match(" 12 "), 12);
  for (const char* bad : {"", "\"\"", "0", "-1", "W/\"3\"", "3x", "*"})
    EXPECT_FALSE(parse_if_match(bad).has_value()) << bad;
  EXPECT_EQ(usage_key_part("a|b:c%d e"), "a%7Cb%3Ac%25d%20e");
}

}  // namespace
}  // namespace inferd::server::sessions
