#include "server/sessions/redis_command.h"

#include <hiredis/hiredis.h>

namespace inferd::server::sessions {

void RedisReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

timeval redis_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

RedisReply redis_command_argv(redisContext* ctx, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return RedisReply(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

std::string redis_reply_text(const redisReply* reply) {
  return reply && reply->str ? std::string(reply->str, reply->len) : std::string();
}

std::string redis_take_url_password(std::string_view* rest) {
  const auto at = rest->rfind('@');
  if (at == std::string_view::npos) return {};
  std::string_view auth = rest->substr(0, at);
  if (const auto colon = auth.find(':'); colon != std::string_view::npos)
    auth = auth.substr(colon + 1);
  rest->remove_prefix(at + 1);
  return std::string(auth);
}

std::string redis_prefix_pattern(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out + '*';
}

Status redis_scan_prefix(
    const std::function<Result<RedisReply>(const std::vector<std::string>&)>& send,
    std::string_view prefix, std::vector<std::string>* out) {
  const std::string pattern = redis_prefix_pattern(prefix);
  std::string cursor = "0";
  do {
    INFERD_ASSIGN_OR_RETURN(RedisReply r,
                            send({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[1]->type != REDIS_REPLY_ARRAY)
      return io_error("redis SCAN: {}", r->type == REDIS_REPLY_ERROR ? redis_reply_text(r.get())
                                                                     : "unexpected reply");
    cursor = redis_reply_text(r->element[0]);
    for (size_t i = 0; i < r->element[1]->elements; ++i)
      out->push_back(redis_reply_text(r->element[1]->element[i]));
  } while (cursor != "0");
  return {};
}

}  // namespace inferd::server::sessions
