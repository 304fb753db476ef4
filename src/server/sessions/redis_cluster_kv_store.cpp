#include "server/sessions/redis_cluster_kv_store.h"

#include <algorithm>
#include <set>

#include <hiredis/hiredis.h>

#include "server/sessions/redis_key_slot.h"

namespace inferd::server::sessions {
namespace {

// KEYS: the expectation keys, then the write keys. ARGV[1]: the number of expectations; then per
// expectation: '1' and the value, or '0' and '' (the key must be absent); then per write: the
// op ('p' put, 'e' erase, 'x' expire), the value and the expiry (Unix ms, '0' = never).
// Returns 1 when every write was applied, 0 when an expectation failed (nothing written).
constexpr std::string_view kCommitLua = R"lua(
local num_expect = tonumber(ARGV[1])
local a = 2
for i = 1, num_expect do
  local current = redis.call('GET', KEYS[i])
  if ARGV[a] == '1' then
    if current ~= ARGV[a + 1] then return 0 end
  elseif current then
    return 0
  end
  a = a + 2
end
for i = num_expect + 1, #KEYS do
  local op, value, at = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  if op == 'p' then
    if at == '0' then
      redis.call('SET', KEYS[i], value)
    else
      redis.call('SET', KEYS[i], value, 'PXAT', at)
    end
  elseif op == 'e' then
    redis.call('DEL', KEYS[i])
  elseif at == '0' then
    redis.call('PERSIST', KEYS[i])
  else
    redis.call('PEXPIREAT', KEYS[i], at)
  end
  a = a + 3
end
return 1
)lua";

const std::string& commit_sha1() {
  static const std::string sha = redis_script_sha1(kCommitLua);
  return sha;
}

const char* op_code(KvWrite::Op op) {
  static constexpr const char* kCodes[] = {"p", "e", "x"};  // by KvWrite::Op
  return kCodes[static_cast<int>(op)];
}

Status reply_error(const redisReply* r, const char* what) {
  return io_error("redis cluster {}: {}", what,
                  r->type == REDIS_REPLY_ERROR ? redis_reply_text(r) : "unexpected reply");
}

}  // namespace

Result<std::shared_ptr<RedisClusterKvStore>> RedisClusterKvStore::open(
    RedisClusterOptions options) {
  INFERD_ASSIGN_OR_RETURN(auto client, RedisClusterClient::open(std::move(options)));
  return std::shared_ptr<RedisClusterKvStore>(new RedisClusterKvStore(std::move(client)));
}

std::string RedisClusterKvStore::describe() const {
  return client_->describe();
}

Result<std::optional<std::string>> RedisClusterKvStore::get(const std::string& key) {
  INFERD_ASSIGN_OR_RETURN(auto values, get_many({key}));
  return std::move(values[0]);
}

Result<std::vector<std::optional<std::string>>> RedisClusterKvStore::get_many(
    const std::vector<std::string>& keys) {
  std::vector<RedisClusterClient::SlotCommand> commands;
  commands.reserve(keys.size());
  for (const std::string& k : keys) commands.push_back({redis_key_slot(k), {"GET", k}});
  INFERD_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, client_->command_many(commands));
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const RedisReply& r : replies) {
    if (r->type == REDIS_REPLY_STRING)
      out.emplace_back(std::string(r->str, r->len));
    else if (r->type == REDIS_REPLY_NIL)
      out.emplace_back(std::nullopt);
    else
      return reply_error(r.get(), "GET");
  }
  return out;
}

Result<bool> RedisClusterKvStore::commit(const std::vector<KvExpect>& expect,
                                         const std::vector<KvWrite>& writes) {
  std::vector<std::string> keys;
  std::vector<std::string> args = {std::to_string(expect.size())};
  for (const KvExpect& x : expect) {
    keys.push_back(x.key);
    args.push_back(x.value ? "1" : "0");
    args.push_back(x.value.value_or(""));
  }
  for (const KvWrite& w : writes) {
    keys.push_back(w.key);
    args.push_back(op_code(w.op));
    args.push_back(w.value);
    args.push_back(std::to_string(w.expires_at_ms));
  }
  if (keys.empty()) return true;
  std::set<uint16_t> slots;
  for (const std::string& k : keys) slots.insert(redis_key_slot(k));
  if (slots.size() > 1)
    return internal_error(
        "a commit's keys span {} Redis Cluster hash slots ('{}' is in slot {}, '{}' in slot {}); "
        "a cluster commits atomically only within one slot, so nothing was written",
        slots.size(), keys.front(), redis_key_slot(keys.front()), keys.back(),
        redis_key_slot(keys.back()));
  INFERD_ASSIGN_OR_RETURN(RedisReply r,
                          client_->eval(*slots.begin(), kCommitLua, commit_sha1(), keys, args));
  if (r->type != REDIS_REPLY_INTEGER) return reply_error(r.get(), "commit");
  return r->integer == 1;
}

Result<std::vector<std::string>> RedisClusterKvStore::keys(const std::string& prefix) {
  INFERD_ASSIGN_OR_RETURN(std::vector<std::string> masters, client_->masters());
  std::vector<std::string> out;
  for (const std::string& node : masters) {
    const auto send = [&](const std::vector<std::string>& argv) {
      return client_->command_on_node(node, argv);
    };
    INFERD_RETURN_IF_ERROR(redis_scan_prefix(send, prefix, &out).with_context(node));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());  // SCAN may return a key twice
  return out;
}

}  // namespace inferd::server::sessions
