// Helpers shared by the hiredis clients (RedisKvStore, RedisClusterClient, RedisRateStore):
// commands from argv (binary-safe), owned replies, reply text, URL passwords, and prefix
// listings with SCAN.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct redisContext;
struct redisReply;

namespace inferd::server::sessions {

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReply = std::unique_ptr<redisReply, RedisReplyDeleter>;

// A hiredis timeout.
timeval redis_timeval(std::chrono::milliseconds ms);

// Sends argv on `ctx` and waits for the reply; null on an I/O error (the reason is in
// ctx->errstr, and the connection is unusable).
RedisReply redis_command_argv(redisContext* ctx, const std::vector<std::string>& argv);

// The text of a string, status or error reply; "" for others.
std::string redis_reply_text(const redisReply* reply);

// Removes "[USER]:PASSWORD@" (or "PASSWORD@") from the front of a URL's rest after the scheme and
// returns the password ("" when there is none).
std::string redis_take_url_password(std::string_view* rest);

// A SCAN MATCH pattern for keys that start with `prefix` literally.
std::string redis_prefix_pattern(std::string_view prefix);

// Appends to `out` every key of one node that starts with `prefix`, by SCAN through `send`
// (which runs one command on that node). SCAN may list a key twice; the caller dedupes.
Status redis_scan_prefix(
    const std::function<Result<RedisReply>(const std::vector<std::string>&)>& send,
    std::string_view prefix, std::vector<std::string>* out);

}  // namespace inferd::server::sessions
