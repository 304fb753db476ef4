#include "server/sessions/redis_kv_store.h"

#include <algorithm>
#include <charconv>
#include <memory>

#include <hiredis/hiredis.h>

#include "server/sessions/redis_command.h"

namespace inferd::server::sessions {
namespace {

using Reply = RedisReply;

Status reply_error(const redisReply* r, const char* what) {
  return io_error("redis {}: {}", what, redis_reply_text(r));
}

bool parse_int(std::string_view s, int lo, int hi, int* out) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

Result<RedisAddress> parse_redis_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return invalid_argument("'{}' is not a redis:// URL", url);
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  RedisAddress a;
  a.password = redis_take_url_password(&rest);
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_int(db, 0, 1 << 20, &a.db))
      return invalid_argument("'{}': the database must be a number (redis://host:port/DB)", url);
    rest = rest.substr(0, slash);
  }
  if (const auto colon = rest.rfind(':');
      colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
    if (!parse_int(rest.substr(colon + 1), 1, 65535, &a.port))
      return invalid_argument("'{}': the port must be 1-65535", url);
    rest = rest.substr(0, colon);
  }
  if (!rest.empty()) a.host = std::string(rest);
  return a;
}

Result<std::shared_ptr<RedisKvStore>> RedisKvStore::open(const RedisAddress& address) {
  std::shared_ptr<RedisKvStore> store(new RedisKvStore(address));
  std::lock_guard<std::mutex> lock(store->mu_);
  INFERD_RETURN_IF_ERROR(store->connect_locked());
  return store;
}

RedisKvStore::~RedisKvStore() {
  if (ctx_) redisFree(ctx_);
}

std::string RedisKvStore::describe() const {
  return "redis://" + address_.host + ":" + std::to_string(address_.port) + "/" +
         std::to_string(address_.db);
}

Status RedisKvStore::connect_locked() {
  if (ctx_) redisFree(ctx_);
  const timeval timeout{5, 0};
  ctx_ = redisConnectWithTimeout(address_.host.c_str(), address_.port, timeout);
  if (!ctx_ || ctx_->err) {
    const std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    return io_error("cannot connect to redis at {}:{}: {}", address_.host, address_.port, why);
  }
  redisSetTimeout(ctx_, timeout);
  std::vector<std::vector<std::string>> setup;
  if (!address_.password.empty()) setup.push_back({"AUTH", address_.password});
  if (address_.db != 0) setup.push_back({"SELECT", std::to_string(address_.db)});
  setup.push_back({"PING"});
  for (const auto& argv : setup) {
    INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked(argv));
    Reply r(raw);
    if (r->type == REDIS_REPLY_ERROR) {
      const Status st = reply_error(r.get(), argv[0].c_str());
      redisFree(ctx_);
      ctx_ = nullptr;
      return st;
    }
  }
  return {};
}

Status RedisKvStore::ensure_connected_locked() {
  return ctx_ ? Status() : connect_locked();
}

Result<redisReply*> RedisKvStore::command_locked(const std::vector<std::string>& argv) {
  if (!ctx_) return io_error("not connected to redis");
  redisReply* r = redis_command_argv(ctx_, argv).release();
  if (!r) {
    const std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;  // reconnected on the next call
    return io_error("redis {}: {}", argv.empty() ? "" : argv[0], why);
  }
  return r;
}

Result<std::optional<std::string>> RedisKvStore::get(const std::string& key) {
  INFERD_ASSIGN_OR_RETURN(auto values, get_many({key}));
  return std::move(values[0]);
}

Result<std::vector<std::optional<std::string>>> RedisKvStore::get_many(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  if (keys.empty()) return out;
  std::vector<std::string> argv = {"MGET"};
  argv.insert(argv.end(), keys.begin(), keys.end());
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(ensure_connected_locked());
  INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked(argv));
  Reply r(raw);
  if (r->type != REDIS_REPLY_ARRAY || r->elements != keys.size())
    return reply_error(r.get(), "MGET");
  for (size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e->type == REDIS_REPLY_STRING)
      out.emplace_back(std::string(e->str, e->len));
    else
      out.emplace_back(std::nullopt);
  }
  return out;
}

Result<bool> RedisKvStore::commit_locked(const std::vector<KvExpect>& expect,
                                         const std::vector<KvWrite>& writes) {
  auto simple = [&](const std::vector<std::string>& argv) -> Status {
    INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked(argv));
    Reply r(raw);
    if (r->type == REDIS_REPLY_ERROR) return reply_error(r.get(), argv[0].c_str());
    return {};
  };
  if (!expect.empty()) {
    std::vector<std::string> watch = {"WATCH"};
    for (const auto& x : expect) watch.push_back(x.key);
    INFERD_RETURN_IF_ERROR(simple(watch));
    std::vector<std::string> mget = {"MGET"};
    for (const auto& x : expect) mget.push_back(x.key);
    INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked(mget));
    Reply r(raw);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != expect.size())
      return reply_error(r.get(), "MGET");
    for (size_t i = 0; i < expect.size(); ++i) {
      const redisReply* e = r->element[i];
      const std::optional<std::string> current =
          e->type == REDIS_REPLY_STRING ? std::optional<std::string>(std::string(e->str, e->len))
                                        : std::nullopt;
      if (current != expect[i].value) {
        INFERD_RETURN_IF_ERROR(simple({"UNWATCH"}));
        return false;
      }
    }
  }
  INFERD_RETURN_IF_ERROR(simple({"MULTI"}));
  for (const auto& w : writes) {
    switch (w.op) {
      case KvWrite::Op::kPut:
        if (w.expires_at_ms > 0)
          INFERD_RETURN_IF_ERROR(
              simple({"SET", w.key, w.value, "PXAT", std::to_string(w.expires_at_ms)}));
        else
          INFERD_RETURN_IF_ERROR(simple({"SET", w.key, w.value}));
        break;
      case KvWrite::Op::kErase: INFERD_RETURN_IF_ERROR(simple({"DEL", w.key})); break;
      case KvWrite::Op::kExpire:
        if (w.expires_at_ms > 0)
          INFERD_RETURN_IF_ERROR(simple({"PEXPIREAT", w.key, std::to_string(w.expires_at_ms)}));
        else
          INFERD_RETURN_IF_ERROR(simple({"PERSIST", w.key}));
        break;
    }
  }
  INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked({"EXEC"}));
  Reply r(raw);
  if (r->type == REDIS_REPLY_NIL) return false;  // a watched key changed
  if (r->type != REDIS_REPLY_ARRAY) return reply_error(r.get(), "EXEC");
  for (size_t i = 0; i < r->elements; ++i)
    if (r->element[i]->type == REDIS_REPLY_ERROR) return reply_error(r->element[i], "EXEC");
  return true;
}

Result<bool> RedisKvStore::commit(const std::vector<KvExpect>& expect,
                                  const std::vector<KvWrite>& writes) {
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(ensure_connected_locked());
  auto applied = commit_locked(expect, writes);
  if (!applied.ok() && ctx_) {
    // Leave no transaction or watch behind on the connection.
    if (auto d = command_locked({"DISCARD"}); d.ok()) freeReplyObject(*d);
    if (auto u = command_locked({"UNWATCH"}); u.ok()) freeReplyObject(*u);
  }
  return applied;
}

Result<std::vector<std::string>> RedisKvStore::keys(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  INFERD_RETURN_IF_ERROR(ensure_connected_locked());
  std::vector<std::string> out;
  const auto send = [&](const std::vector<std::string>& argv) -> Result<RedisReply> {
    INFERD_ASSIGN_OR_RETURN(redisReply * raw, command_locked(argv));
    return RedisReply(raw);
  };
  INFERD_RETURN_IF_ERROR(redis_scan_prefix(send, prefix, &out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());  // SCAN may return a key twice
  return out;
}

}  // namespace inferd::server::sessions
