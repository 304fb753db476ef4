#include "server/auth/api_key.h"

#include <set>

#include <gtest/gtest.h>

#include "server/auth/scope_set.h"

namespace inferd::server::auth {
namespace {

TEST(ApiKeyTest, GeneratedKeysParseIntoPrefixIdAndSecret) {
  std::set<std::string> ids;
  for (const char* prefix : {"vista_", "whisp_", "fork_", "data_", "voice_", "lbrx_", "inferd_", "a1_"}) {
    auto k = generate_api_key(prefix);
    ASSERT_TRUE(k.ok()) << k.status().to_string();
    const auto parts = parse_api_key(k->key);
    ASSERT_TRUE(parts) << k->key;
    EXPECT_EQ(parts->prefix, prefix);
    EXPECT_EQ(parts->id, k->id);
    EXPECT_EQ(parts->id.size(), kKeyIdChars);
    EXPECT_EQ(parts->secret.size(), kKeySecretChars);
    EXPECT_TRUE(ids.insert(k->id).second);
  }
}

TEST(ApiKeyTest, MalformedKeysAndPrefixesAreRefused) {
  const std::string good = generate_api_key("vista_")->key;
  for (std::string bad : {std::string(), std::string("vista_"), good.substr(5), good + "x", good.substr(0, good.size() - 1),
                          "Vista" + good.substr(5), "vista-" + good.substr(6), good.substr(0, 6) + "!" + good.substr(7),
                          std::string(200, 'a'), std::string("sk-") + std::string(48, 'a')})
    EXPECT_FALSE(parse_api_key(bad)) << bad;
  for (const char* bad : {"", "_", "vista", "Vista_", "vi-sta_", "abcdefghijklmnopqrstuvwxy_"})
    EXPECT_FALSE(check_key_prefix(bad).ok()) << bad;
  EXPECT_FALSE(generate_api_key("BAD").ok());
}

TEST(ApiKeyTest, HashesMatchOnlyTheirKey) {
  const std::string key = generate_api_key("data_")->key;
  const std::string hash = hash_api_key(key);
  EXPECT_TRUE(check_key_hash(hash).ok());
  EXPECT_EQ(hash.size(), 7u + 64u);
  EXPECT_TRUE(api_key_matches(hash, key));
  std::string other = key;
  other.back() = other.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(api_key_matches(hash, other));
  EXPECT_FALSE(api_key_matches(hash.substr(0, 40), key));
  EXPECT_FALSE(api_key_matches("", key));
  for (const char* bad : {"", "sha256:", "md5:0123", "sha256:XYZ"}) EXPECT_FALSE(check_key_hash(bad).ok()) << bad;
  EXPECT_EQ(key_display_name("data_", "abc"), "data_abc_...");
}

TEST(ScopeSetTest, ParsesNamesAndAdminGrantsEveryScope) {
  auto s = ScopeSet::parse({"inference", "sessions"});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->grants(AuthScope::kInference));
  EXPECT_TRUE(s->grants(AuthScope::kSessions));
  EXPECT_TRUE(s->grants(AuthScope::kPublic));
  EXPECT_FALSE(s->grants(AuthScope::kAdmin));
  EXPECT_EQ(s->names(), (std::vector<std::string>{"inference", "sessions"}));
  const ScopeSet admin = *ScopeSet::parse({"admin"});
  EXPECT_TRUE(admin.grants(AuthScope::kInference) && admin.grants(AuthScope::kSessions) && admin.grants(AuthScope::kAdmin));
  const auto bad = ScopeSet::parse({"inference", "root"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'root'"), std::string::npos);
}

}  // namespace
}  // namespace inferd::server::auth
