#include "server/ratelimit/redis_rate_store.h"

#include <string_view>

#include <hiredis/hiredis.h>

#include "server/ratelimit/gcra.h"
#include "server/sessions/redis_key_slot.h"

namespace inferd::server::ratelimit {
namespace {

// Admission over n subjects. KEYS: per subject its requests, tokens and slots keys. ARGV: slot
// id, slot ttl (us), then per subject: requests_per_minute, emission interval (us),
// tokens_per_minute, concurrent. Returns {admitted, then per subject: requests_refused,
// tokens_refused, concurrency_refused, requests_reset_us, retry_after_us}. The arithmetic is
// gcra.cpp's.
constexpr const char* kAdmitLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = ARGV[1]
local slot_ttl = tonumber(ARGV[2])
local n = #KEYS / 3
local admitted = 1
local rows, new_tats, tats = {}, {}, {}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local rpm, interval = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local tpm, conc = tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  local row = {0, 0, 0, 0, 0}
  tats[i] = 0
  if rpm > 0 then
    local tat = tonumber(redis.call('GET', KEYS[3 * i - 2]) or '0')
    tats[i] = tat
    local new_tat = math.max(tat, now) + interval
    local tolerance = interval * rpm
    if new_tat - now <= tolerance then
      new_tats[i] = new_tat
    else
      row[1] = 1
      row[5] = new_tat - now - tolerance
    end
  end
  if tpm > 0 then
    local tat = tonumber(redis.call('GET', KEYS[3 * i - 1]) or '0')
    local spent = tat - now - 60000000
    if spent >= 0 then
      row[2] = 1
      row[5] = math.max(row[5], spent + 1)
    end
  end
  if conc > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', string.format('%d', now))
    if redis.call('ZCARD', KEYS[3 * i]) >= conc then row[3] = 1 end
  end
  if row[1] + row[2] + row[3] > 0 then admitted = 0 end
  rows[i] = row
end
local out = {admitted}
for i = 1, n do
  local a = 2 + (i - 1) * 4
  local rpm, conc = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 4])
  local tat = tats[i]
  if admitted == 1 then
    if rpm > 0 then
      tat = new_tats[i]
      redis.call('SET', KEYS[3 * i - 2], string.format('%d', tat), 'PX',
                 string.format('%d', math.floor((tat - now) / 1000) + 1))
    end
    if conc > 0 then
      redis.call('ZADD', KEYS[3 * i], string.format('%d', now + slot_ttl), slot)
      redis.call('PEXPIRE', KEYS[3 * i], string.format('%d', math.floor(slot_ttl / 1000) + 1))
    end
  end
  rows[i][4] = math.max(0, tat - now)
  for _, v in ipairs(rows[i]) do table.insert(out, v) end
end
return out
)lua";

// KEYS: slots keys. ARGV: the slot id. Returns the number of slots removed.
constexpr const char* kReleaseLua = R"lua(
local removed = 0
for i = 1, #KEYS do removed = removed + redis.call('ZREM', KEYS[i], ARGV[1]) end
return removed
)lua";

// KEYS: tokens keys. ARGV: per key the cost (us) of the charge, then the largest debt (us).
constexpr const char* kChargeLua = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = tonumber(ARGV[#KEYS + 1])
for i = 1, #KEYS do
  local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now)
  tat = math.min(tat + tonumber(ARGV[i]), now + cap)
  redis.call('SET', KEYS[i], string.format('%d', tat), 'PX',
             string.format('%d', math.floor((tat - now) / 1000) + 1))
end
return #KEYS
)lua";

constexpr size_t kAdmitFieldsPerSubject = 5;

// The hash tag of every key: one Redis Cluster slot for all of them.
constexpr std::string_view kKeyTag = "{inferd-rate}:";

using sessions::redis_command_argv;
using sessions::redis_reply_text;
using sessions::RedisReply;

// A script's reply as integers (an array of them, or one).
Result<std::vector<int64_t>> integers(const redisReply* r, const std::string& what) {
  std::vector<int64_t> out;
  if (r->type == REDIS_REPLY_ERROR) return io_error("redis {}: {}", what, redis_reply_text(r));
  if (r->type == REDIS_REPLY_INTEGER) {
    out.push_back(r->integer);
    return out;
  }
  if (r->type != REDIS_REPLY_ARRAY) return io_error("redis {}: unexpected reply", what);
  for (size_t i = 0; i < r->elements; ++i) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER)
      return io_error("redis {}: unexpected reply", what);
    out.push_back(r->element[i]->integer);
  }
  return out;
}

}  // namespace

struct RedisRateStore::Script {
  explicit Script(const char* s) : source(s), sha(sessions::redis_script_sha1(s)) {}
  const char* source;
  std::string sha;
};

RedisRateStore::RedisRateStore(RedisRateStoreOptions options)
    : options_(std::move(options)),
      admit_script_(std::make_unique<Script>(kAdmitLua)),
      release_script_(std::make_unique<Script>(kReleaseLua)),
      charge_script_(std::make_unique<Script>(kChargeLua)) {}

RedisRateStore::~RedisRateStore() {
  if (ctx_) redisFree(ctx_);
}

Status RedisRateStore::connect() {
  std::lock_guard<std::mutex> lock(mu_);
  return ctx_ || cluster_ ? Status() : connect_locked();
}

Status RedisRateStore::ensure_connected_locked() {
  if (ctx_ || cluster_) return {};
  if (std::chrono::steady_clock::now() < down_until_)
    return io_error("redis at {} is unreachable (next attempt within {} ms)", describe(),
                    options_.retry_interval.count());
  return connect_locked();
}

std::string RedisRateStore::key(const std::string& subject_id, const char* what) const {
  return options_.key_prefix + std::string(kKeyTag) + subject_id + ":" + what;
}

std::string RedisRateStore::describe() const {
  if (options_.cluster) {
    const sessions::RedisClusterOptions& o = *options_.cluster;
    std::string out = "redis+cluster://";
    for (size_t i = 0; i < o.seeds.size(); ++i) out += (i ? "," : "") + o.seeds[i].name();
    return out;
  }
  return "redis://" + options_.address.host + ":" + std::to_string(options_.address.port) + "/" +
         std::to_string(options_.address.db);
}

Status RedisRateStore::fail_locked(Status status) {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  down_until_ = std::chrono::steady_clock::now() + options_.retry_interval;
  return status;
}

Status RedisRateStore::connect_locked() {
  if (options_.cluster) {
    sessions::RedisClusterOptions o = *options_.cluster;
    o.timeout = options_.timeout;
    o.node_retry_interval = options_.retry_interval;
    auto client = sessions::RedisClusterClient::open(std::move(o));
    if (!client.ok()) return fail_locked(client.status());
    cluster_ = std::move(client).value();
    return {};
  }
  const sessions::RedisAddress& address = options_.address;
  const timeval timeout = sessions::redis_timeval(options_.timeout);
  ctx_ = redisConnectWithTimeout(address.host.c_str(), address.port, timeout);
  if (!ctx_ || ctx_->err) {
    const std::string why = ctx_ ? ctx_->errstr : "out of memory";
    return fail_locked(
        io_error("cannot connect to redis at {}:{}: {}", address.host, address.port, why));
  }
  redisSetTimeout(ctx_, timeout);
  // Each command, and the script whose SHA1 its reply is (SCRIPT LOAD).
  std::vector<std::pair<std::vector<std::string>, Script*>> setup;
  if (!address.password.empty()) setup.push_back({{"AUTH", address.password}, nullptr});
  if (address.db != 0) setup.push_back({{"SELECT", std::to_string(address.db)}, nullptr});
  for (Script* s : {admit_script_.get(), release_script_.get(), charge_script_.get()})
    setup.push_back({{"SCRIPT", "LOAD", s->source}, s});
  for (const auto& [argv, script] : setup) {
    RedisReply r = redis_command_argv(ctx_, argv);
    if (!r) return fail_locked(io_error("redis {}: {}", argv[0], ctx_->errstr));
    if (r->type == REDIS_REPLY_ERROR)
      return fail_locked(io_error("redis {}: {}", argv[0], redis_reply_text(r.get())));
    if (script != nullptr) script->sha = redis_reply_text(r.get());
  }
  return {};
}

Result<std::vector<int64_t>> RedisRateStore::run(Script& script,
                                                 const std::vector<std::string>& keys,
                                                 const std::vector<std::string>& args) {
  if (options_.cluster) return run_on_cluster(script, keys, args);
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(ensure_connected_locked());
  // EVALSHA first; EVAL (which caches the script again) when Redis answers NOSCRIPT.
  for (const bool by_sha : {true, false}) {
    std::vector<std::string> argv = {by_sha ? "EVALSHA" : "EVAL",
                                     by_sha ? script.sha : std::string(script.source),
                                     std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    RedisReply r = redis_command_argv(ctx_, argv);
    if (!r) return fail_locked(io_error("redis {}: {}", argv[0], ctx_->errstr));
    if (by_sha && r->type == REDIS_REPLY_ERROR &&
        redis_reply_text(r.get()).rfind("NOSCRIPT", 0) == 0)
      continue;
    return integers(r.get(), argv[0]);
  }
  return internal_error("redis: EVAL answered NOSCRIPT");
}

Result<std::vector<int64_t>> RedisRateStore::run_on_cluster(Script& script,
                                                            const std::vector<std::string>& keys,
                                                            const std::vector<std::string>& args) {
  std::shared_ptr<sessions::RedisClusterClient> cluster;
  {
    std::lock_guard<std::mutex> lock(mu_);
    INFERD_RETURN_IF_ERROR(ensure_connected_locked());
    cluster = cluster_;
  }
  const uint16_t slot = sessions::redis_key_slot(options_.key_prefix + std::string(kKeyTag));
  INFERD_ASSIGN_OR_RETURN(sessions::RedisReply r,
                          cluster->eval(slot, script.source, script.sha, keys, args));
  return integers(r.get(), "EVALSHA");
}

Result<RateVerdict> RedisRateStore::admit(std::span<const RateSubject> subjects,
                                          std::string_view slot_id) {
  std::vector<std::string> keys;
  std::vector<std::string> args = {
      std::string(slot_id),
      std::to_string(
          std::chrono::duration_cast<std::chrono::microseconds>(options_.slot_ttl).count())};
  for (const RateSubject& s : subjects) {
    keys.push_back(key(s.id, "requests"));
    keys.push_back(key(s.id, "tokens"));
    keys.push_back(key(s.id, "slots"));
    const uint32_t rpm = s.limits.requests_per_minute;
    args.push_back(std::to_string(rpm));
    args.push_back(std::to_string(rpm > 0 ? emission_interval_us(rpm) : 0));
    args.push_back(std::to_string(s.limits.tokens_per_minute));
    args.push_back(std::to_string(s.limits.concurrent));
  }
  INFERD_ASSIGN_OR_RETURN(std::vector<int64_t> reply, run(*admit_script_, keys, args));
  if (reply.size() != 1 + kAdmitFieldsPerSubject * subjects.size())
    return io_error("redis: the admission script answered {} numbers", reply.size());
  RateVerdict verdict;
  verdict.admitted = reply[0] == 1;
  for (size_t i = 0; i < subjects.size(); ++i) {
    const int64_t* row = &reply[1 + kAdmitFieldsPerSubject * i];
    verdict.subjects.push_back({.requests_refused = row[0] != 0,
                                .tokens_refused = row[1] != 0,
                                .concurrency_refused = row[2] != 0,
                                .requests_reset_us = row[3],
                                .retry_after_us = row[4]});
  }
  return verdict;
}

Status RedisRateStore::release(std::span<const std::string> subject_ids, std::string_view slot_id) {
  if (subject_ids.empty()) return {};
  std::vector<std::string> keys;
  for (const std::string& id : subject_ids) keys.push_back(key(id, "slots"));
  return run(*release_script_, keys, {std::string(slot_id)}).status();
}

Status RedisRateStore::charge_tokens(std::span<const RateSubject> subjects, uint64_t tokens) {
  std::vector<std::string> keys;
  std::vector<std::string> args;
  for (const RateSubject& s : subjects) {
    if (s.limits.tokens_per_minute == 0) continue;
    keys.push_back(key(s.id, "tokens"));
    args.push_back(std::to_string(charge_token_tat(0, 0, tokens, s.limits.tokens_per_minute)));
  }
  if (keys.empty() || tokens == 0) return {};
  args.push_back(std::to_string(kMaxTokenDebtUs));
  return run(*charge_script_, keys, args).status();
}

}  // namespace inferd::server::ratelimit
