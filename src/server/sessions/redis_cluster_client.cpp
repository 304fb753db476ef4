#include "server/sessions/redis_cluster_client.h"

#include <algorithm>
#include <charconv>
#include <thread>

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "server/sessions/redis_key_slot.h"

namespace inferd::server::sessions {
namespace {

constexpr std::string_view kClusterScheme = "redis+cluster://";

bool parse_port(std::string_view s, int* out) {
  int v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 65535) return false;
  *out = v;
  return true;
}

// "HOST:PORT" (IPv6 hosts in brackets: "[::1]:7000").
bool parse_host_port(std::string_view s, RedisNodeAddress* out) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  out->host = std::string(host);
  return parse_port(s.substr(colon + 1), &out->port);
}

// A redirection or a transient refusal in an error reply.
enum class ErrorKind { kOther, kMoved, kAsk, kRetry };

struct Redirect {
  ErrorKind kind = ErrorKind::kOther;
  RedisNodeAddress to;  // kMoved, kAsk
};

// "MOVED 3999 127.0.0.1:6381", "ASK 3999 127.0.0.1:6381", "TRYAGAIN ...", "CLUSTERDOWN ...".
Redirect classify(const redisReply* r) {
  Redirect out;
  if (!r || r->type != REDIS_REPLY_ERROR) return out;
  const std::string text = redis_reply_text(r);
  const bool moved = text.rfind("MOVED ", 0) == 0, ask = text.rfind("ASK ", 0) == 0;
  if (moved || ask) {
    const auto space = text.rfind(' ');
    if (space != std::string::npos &&
        parse_host_port(std::string_view(text).substr(space + 1), &out.to))
      out.kind = moved ? ErrorKind::kMoved : ErrorKind::kAsk;
    return out;
  }
  if (text.rfind("TRYAGAIN", 0) == 0 || text.rfind("CLUSTERDOWN", 0) == 0)
    out.kind = ErrorKind::kRetry;
  return out;
}

void pause_before_retry(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
}

}  // namespace

bool is_redis_cluster_url(std::string_view url) {
  return url.rfind(kClusterScheme, 0) == 0;
}

Result<RedisClusterOptions> parse_redis_cluster_url(const std::string& url) {
  if (!is_redis_cluster_url(url))
    return invalid_argument("'{}' is not a redis+cluster:// URL", url);
  std::string_view rest = std::string_view(url).substr(kClusterScheme.size());
  RedisClusterOptions o;
  o.password = redis_take_url_password(&rest);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos)
    return invalid_argument("'{}': a Redis Cluster has no databases (no /DB)", url);
  for (size_t start = 0;;) {
    const size_t comma = rest.find(',', start);
    const std::string_view item =
        rest.substr(start, comma == std::string_view::npos ? comma : comma - start);
    RedisNodeAddress node;
    if (!parse_host_port(item, &node))
      return invalid_argument(
          "'{}': '{}' is not HOST:PORT (redis+cluster://HOST:PORT[,HOST:PORT...], port 1-65535)",
          url, item);
    o.seeds.push_back(std::move(node));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return o;
}

std::string redis_script_sha1(std::string_view source) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(source.data()), source.size(), digest);
  std::string out;
  for (unsigned char b : digest) out += fmt::format("{:02x}", b);
  return out;
}

RedisClusterClient::RedisClusterClient(RedisClusterOptions options) : options_(std::move(options)) {
  slot_owner_.fill(kNoOwner);
}

RedisClusterClient::~RedisClusterClient() {
  for (auto& [name, node] : nodes_)
    if (node.ctx) redisFree(node.ctx);
}

Result<std::shared_ptr<RedisClusterClient>> RedisClusterClient::open(RedisClusterOptions options) {
  if (options.seeds.empty()) return invalid_argument("a Redis Cluster needs at least one node");
  if (options.max_attempts < 1) options.max_attempts = 1;
  std::shared_ptr<RedisClusterClient> client(new RedisClusterClient(std::move(options)));
  std::lock_guard<std::mutex> lock(client->mu_);
  INFERD_RETURN_IF_ERROR(client->refresh_locked());
  return client;
}

std::string RedisClusterClient::describe() const {
  std::string out(kClusterScheme);
  for (size_t i = 0; i < options_.seeds.size(); ++i)
    out += (i ? "," : "") + options_.seeds[i].name();
  return out;
}

RedisClusterClient::Node& RedisClusterClient::node_locked(const RedisNodeAddress& address) {
  const std::string name = address.name();
  auto it = nodes_.find(name);
  if (it == nodes_.end()) it = nodes_.emplace(name, Node{address}).first;
  return it->second;
}

void RedisClusterClient::drop_locked(Node& node) {
  if (node.ctx) redisFree(node.ctx);
  node.ctx = nullptr;
}

Result<redisContext*> RedisClusterClient::connection_locked(Node& node) {
  if (node.ctx) return node.ctx;
  const auto now = std::chrono::steady_clock::now();
  if (now < node.down_until)
    return io_error("redis node {} is unreachable (next attempt within {} ms)", node.address.name(),
                    options_.node_retry_interval.count());
  const timeval timeout = redis_timeval(options_.timeout);
  redisContext* ctx =
      redisConnectWithTimeout(node.address.host.c_str(), node.address.port, timeout);
  if (!ctx || ctx->err) {
    const std::string why = ctx ? ctx->errstr : "out of memory";
    if (ctx) redisFree(ctx);
    node.down_until = now + options_.node_retry_interval;
    return io_error("cannot connect to redis node {}: {}", node.address.name(), why);
  }
  redisSetTimeout(ctx, timeout);
  node.ctx = ctx;
  if (!options_.password.empty()) {
    INFERD_ASSIGN_OR_RETURN(RedisReply r, send_locked(node, {"AUTH", options_.password}));
    if (r->type == REDIS_REPLY_ERROR) {
      drop_locked(node);
      return io_error("redis node {} refused AUTH: {}", node.address.name(),
                      redis_reply_text(r.get()));
    }
  }
  return node.ctx;
}

Result<RedisReply> RedisClusterClient::send_locked(Node& node,
                                                   const std::vector<std::string>& argv) {
  INFERD_ASSIGN_OR_RETURN(redisContext * ctx, connection_locked(node));
  RedisReply r = redis_command_argv(ctx, argv);
  if (!r) {
    const std::string why = ctx->errstr;
    drop_locked(node);
    return io_error("redis node {}: {}: {}", node.address.name(), argv.empty() ? "" : argv[0], why);
  }
  return r;
}

int RedisClusterClient::owner_index_locked(const std::string& name) {
  for (size_t i = 0; i < owners_.size(); ++i)
    if (owners_[i] == name) return static_cast<int>(i);
  owners_.push_back(name);
  return static_cast<int>(owners_.size() - 1);
}

Status RedisClusterClient::refresh_locked() {
  std::vector<RedisNodeAddress> candidates;
  for (const std::string& name : owners_) candidates.push_back(nodes_.at(name).address);
  candidates.insert(candidates.end(), options_.seeds.begin(), options_.seeds.end());
  Status last = io_error("no node to ask");
  for (const RedisNodeAddress& address : candidates) {
    Node& node = node_locked(address);
    auto reply = send_locked(node, {"CLUSTER", "SLOTS"});
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    const redisReply* r = reply->get();
    if (r->type == REDIS_REPLY_ERROR) {
      const std::string why = redis_reply_text(r);
      if (why.find("cluster support disabled") != std::string::npos)
        return invalid_argument("redis node {} is not in cluster mode (use redis://)",
                                address.name());
      last = io_error("redis node {}: CLUSTER SLOTS: {}", address.name(), why);
      continue;
    }
    if (r->type != REDIS_REPLY_ARRAY) {
      last = io_error("redis node {}: CLUSTER SLOTS: unexpected reply", address.name());
      continue;
    }
    std::vector<std::string> owners;
    std::array<int, 16384> slot_owner;
    slot_owner.fill(kNoOwner);
    bool valid = true;
    for (size_t i = 0; i < r->elements && valid; ++i) {
      const redisReply* range = r->element[i];
      valid = range->type == REDIS_REPLY_ARRAY && range->elements >= 3 &&
              range->element[0]->type == REDIS_REPLY_INTEGER &&
              range->element[1]->type == REDIS_REPLY_INTEGER &&
              range->element[2]->type == REDIS_REPLY_ARRAY && range->element[2]->elements >= 2 &&
              range->element[2]->element[1]->type == REDIS_REPLY_INTEGER;
      if (!valid) break;
      const long long first = range->element[0]->integer, last_slot = range->element[1]->integer;
      const redisReply* master = range->element[2];
      RedisNodeAddress owner{redis_reply_text(master->element[0]),
                             static_cast<int>(master->element[1]->integer)};
      // An empty or unknown host means "the node you asked".
      if (owner.host.empty() || owner.host == "?") owner.host = address.host;
      valid = first >= 0 && first <= last_slot && last_slot < kRedisClusterSlots &&
              owner.port > 0 && owner.port <= 65535;
      if (!valid) break;
      node_locked(owner);
      const std::string name = owner.name();
      int idx = -1;
      for (size_t k = 0; k < owners.size(); ++k)
        if (owners[k] == name) idx = static_cast<int>(k);
      if (idx < 0) {
        owners.push_back(name);
        idx = static_cast<int>(owners.size() - 1);
      }
      for (long long s = first; s <= last_slot; ++s) slot_owner[static_cast<size_t>(s)] = idx;
    }
    if (!valid) {
      last = io_error("redis node {}: CLUSTER SLOTS: malformed reply", address.name());
      continue;
    }
    owners_ = std::move(owners);
    slot_owner_ = slot_owner;
    refresh_wanted_ = false;
    return {};
  }
  return io_error("no node of the redis cluster answered CLUSTER SLOTS (last: {})", last.message());
}

Status RedisClusterClient::refresh_if_wanted_locked() {
  if (!refresh_wanted_) return {};
  return refresh_locked();
}

RedisClusterClient::Node* RedisClusterClient::owner_locked(uint16_t slot) {
  const int idx = slot_owner_[slot];
  if (idx == kNoOwner) return nullptr;
  return &nodes_.at(owners_[static_cast<size_t>(idx)]);
}

Result<RedisReply> RedisClusterClient::command(uint16_t slot,
                                               const std::vector<std::string>& argv) {
  std::lock_guard<std::mutex> lock(mu_);
  return command_locked(slot, argv);
}

Result<RedisReply> RedisClusterClient::command_locked(uint16_t slot,
                                                      const std::vector<std::string>& argv) {
  if (slot >= kRedisClusterSlots)
    return internal_error("redis cluster: slot {} out of range", slot);
  if (Status st = refresh_if_wanted_locked(); !st.ok()) refresh_wanted_ = true;
  Node* ask_node = nullptr;  // set by an ASK redirection, for the next try only
  bool refreshed_after_failure = false;
  std::string last_reason;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    Node* node = ask_node ? ask_node : owner_locked(slot);
    if (!node) {
      // No owner in the map: it may be out of date.
      INFERD_RETURN_IF_ERROR(refresh_locked());
      node = owner_locked(slot);
      if (!node) return io_error("redis cluster: no node serves slot {}", slot);
    }
    const bool asking = ask_node != nullptr;
    const bool was_connected = node->ctx != nullptr;
    ask_node = nullptr;
    Result<RedisReply> reply = [&]() -> Result<RedisReply> {
      if (asking) {
        INFERD_ASSIGN_OR_RETURN(RedisReply ignored, send_locked(*node, {"ASKING"}));
      }
      return send_locked(*node, argv);
    }();
    if (!reply.ok()) {
      // The node failed: read the map again, and retry once: on the slot's new owner, or on a
      // fresh connection when an open one broke (the node may have restarted).
      if (refreshed_after_failure || asking) return reply.status();
      refreshed_after_failure = true;
      const std::string failed = node->address.name();
      if (!refresh_locked().ok()) return reply.status();
      const Node* now_owner = owner_locked(slot);
      if (!now_owner) return reply.status();
      if (now_owner->address.name() == failed && !was_connected) return reply.status();
      last_reason = reply.status().message();
      continue;
    }
    const Redirect redirect = classify(reply->get());
    switch (redirect.kind) {
      case ErrorKind::kOther: return reply;
      case ErrorKind::kMoved:
        slot_owner_[slot] = owner_index_locked(redirect.to.name());
        node_locked(redirect.to);
        refresh_wanted_ = true;
        break;
      case ErrorKind::kAsk: ask_node = &node_locked(redirect.to); break;
      case ErrorKind::kRetry: pause_before_retry(attempt); break;
    }
    last_reason = redis_reply_text(reply->get());
  }
  return io_error("redis cluster: '{}' for slot {} did not settle after {} tries (last: {})",
                  argv.empty() ? "" : argv[0], slot, options_.max_attempts, last_reason);
}

Result<std::vector<RedisReply>> RedisClusterClient::command_many(
    const std::vector<SlotCommand>& commands) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Status st = refresh_if_wanted_locked(); !st.ok()) refresh_wanted_ = true;
  std::vector<RedisReply> out(commands.size());
  // Commands by node, in order; those without an owner go through command_locked().
  std::map<Node*, std::vector<size_t>> by_node;
  for (size_t i = 0; i < commands.size(); ++i) by_node[owner_locked(commands[i].slot)].push_back(i);
  for (auto& [node, indices] : by_node) {
    if (!node) continue;
    auto ctx = connection_locked(*node);
    if (!ctx.ok()) continue;  // retried one by one below
    size_t appended = 0;
    for (size_t i : indices) {
      const auto& argv = commands[i].argv;
      std::vector<const char*> ptrs;
      std::vector<size_t> lens;
      for (const auto& a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(*ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()) !=
          REDIS_OK)
        break;
      ++appended;
    }
    for (size_t k = 0; k < appended; ++k) {
      void* raw = nullptr;
      if (redisGetReply(*ctx, &raw) != REDIS_OK || !raw) {
        drop_locked(*node);  // the rest are retried one by one
        break;
      }
      out[indices[k]] = RedisReply(static_cast<redisReply*>(raw));
    }
    if (appended < indices.size() && node->ctx) drop_locked(*node);  // unread replies queued
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    if (out[i] && classify(out[i].get()).kind == ErrorKind::kOther) continue;
    INFERD_ASSIGN_OR_RETURN(out[i], command_locked(commands[i].slot, commands[i].argv));
  }
  return out;
}

Result<RedisReply> RedisClusterClient::eval(uint16_t slot, std::string_view source,
                                            const std::string& sha1,
                                            const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) {
  for (const bool by_sha : {true, false}) {
    std::vector<std::string> argv = {by_sha ? "EVALSHA" : "EVAL",
                                     by_sha ? sha1 : std::string(source),
                                     std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    INFERD_ASSIGN_OR_RETURN(RedisReply r, command(slot, argv));
    if (by_sha && r->type == REDIS_REPLY_ERROR &&
        redis_reply_text(r.get()).rfind("NOSCRIPT", 0) == 0)
      continue;
    return r;
  }
  return internal_error("redis cluster: EVAL answered NOSCRIPT");
}

Result<std::vector<std::string>> RedisClusterClient::masters() {
  std::lock_guard<std::mutex> lock(mu_);
  if (refresh_wanted_) INFERD_RETURN_IF_ERROR(refresh_locked());
  std::vector<std::string> out;
  for (size_t i = 0; i < owners_.size(); ++i)
    if (std::find(slot_owner_.begin(), slot_owner_.end(), static_cast<int>(i)) != slot_owner_.end())
      out.push_back(owners_[i]);
  return out;
}

Result<RedisReply> RedisClusterClient::command_on_node(const std::string& node,
                                                       const std::vector<std::string>& argv) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return not_found("redis cluster: no node {}", node);
  return send_locked(it->second, argv);
}

}  // namespace inferd::server::sessions
