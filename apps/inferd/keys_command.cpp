// inferd keys: API keys in the key store a server uses (auth.keys_store), changed directly in the
// store, so it works whether or not a server runs (a running server sees changes at its next
// request). `inferd keys hash KEY` prints the hash and entry for a key listed in the config file.
//   inferd keys create --service vista [--scopes inference,sessions] [--expires-in 30d] ...
//   inferd keys list | show ID | rotate ID [--grace 24h] | revoke ID | hash KEY
// The store comes from --store, else from --config's auth.keys_store (or INFERD_KEYS_STORE).
// A new key goes to stdout (alone, or with its record with --json); it is never shown again.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "server/auth/api_key.h"
#include "server/auth/api_key_store.h"
#include "server/config/serve_config_loader.h"
#include "server/sessions/iso8601.h"

namespace inferd::cli {
namespace {

using server::auth::ApiKeyRecord;
using server::auth::ApiKeyStore;

struct KeysOptions {
  std::string store, config;
  std::string service, name, prefix, scopes, expires_at, id, key;
  std::string expires_in = "0", grace = "24h";
  int64_t rpm = 0, tpm = 0, concurrent = 0;
  bool json = false;
};

int fail(const Status& st) {
  std::fprintf(stderr, "inferd keys: %s\n", st.message().c_str());
  return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 2 : 1;
}

// "90", "90s", "15m", "24h", "30d" -> seconds.
Result<int64_t> parse_duration_s(const std::string& text) {
  static constexpr std::pair<char, int64_t> kUnits[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
  if (text.empty()) return invalid_argument("empty duration");
  int64_t unit = 1;
  std::string digits = text;
  for (auto [suffix, seconds] : kUnits)
    if (text.back() == suffix) unit = seconds, digits.pop_back();
  char* end = nullptr;
  const long long n = std::strtoll(digits.c_str(), &end, 10);
  if (digits.empty() || *end != '\0' || n < 0 || n > (int64_t{1} << 40) / unit)
    return invalid_argument("'{}' is not a duration such as 90s, 15m, 24h or 30d", text);
  return n * unit;
}

// The store named by --store or by the configuration, and the configuration (for key prefixes).
Result<std::shared_ptr<ApiKeyStore>> open_store(const KeysOptions& o, server::ServeConfig* c) {
  if (!o.config.empty()) INFERD_RETURN_IF_ERROR(server::read_config_file(o.config, c));
  INFERD_RETURN_IF_ERROR(server::apply_environment(c, [](const char* name) { return std::getenv(name); }));
  const std::string url = o.store.empty() ? c->auth.keys_store : o.store;
  if (url.empty()) return invalid_argument("no key store: pass --store URL (e.g. sqlite:keys.db) or --config FILE");
  return ApiKeyStore::open(url);
}

void print_record(const ApiKeyRecord& r, bool json) {
  if (json) return (void)std::printf("%s\n", server::auth::api_key_record_json(r, false).dump(2).c_str());
  std::printf("%-14s %-28s %-10s %-26s %s\n", r.id.c_str(), r.display_name().c_str(), r.service.c_str(),
              fmt::format("{}", fmt::join(r.scopes.names(), ",")).c_str(),
              r.revoked_at ? "revoked"
              : r.expires_at ? ("expires " + server::sessions::format_iso8601(r.expires_at * 1000)).c_str()
                             : "");
}

void print_issued(const server::auth::IssuedKey& k, bool json) {
  if (!json) return (void)std::printf("%s\n", k.key.c_str());
  auto j = server::auth::api_key_record_json(k.record, false);
  j["key"] = k.key;
  std::printf("%s\n", j.dump(2).c_str());
}

int run(const std::string& action, const KeysOptions& o) {
  if (action == "hash") {
    const auto parts = server::auth::parse_api_key(o.key);
    if (!parts) return fail(invalid_argument("not an API key (expected <prefix><id>_<secret>)"));
    std::printf("api_keys:\n  - id: %s\n    prefix: %s\n    hash: %s\n    service: SERVICE\n",
                std::string(parts->id).c_str(), std::string(parts->prefix).c_str(),
                server::auth::hash_api_key(o.key).c_str());
    return 0;
  }
  server::ServeConfig c;
  auto store = open_store(o, &c);
  if (!store.ok()) return fail(store.status());
  ApiKeyStore& keys = **store;
  if (action == "create") {
    server::auth::KeySpec spec;
    spec.service = o.service;
    spec.name = o.name;
    spec.prefix = o.prefix;
    if (spec.prefix.empty()) {
      spec.prefix = std::string(server::auth::kDefaultKeyPrefix);
      for (const auto& s : c.services)
        if (s.name == o.service && !s.key_prefix.empty()) spec.prefix = s.key_prefix;
    }
    if (!o.scopes.empty()) {
      std::vector<std::string> names;
      for (size_t start = 0; start <= o.scopes.size();) {
        const size_t comma = std::min(o.scopes.find(',', start), o.scopes.size());
        if (comma > start) names.push_back(o.scopes.substr(start, comma - start));
        start = comma + 1;
      }
      auto parsed = server::auth::ScopeSet::parse(names);
      if (!parsed.ok()) return fail(parsed.status());
      spec.scopes = *parsed;
    }
    spec.limits = {o.rpm, o.tpm, o.concurrent};
    auto in_s = parse_duration_s(o.expires_in);
    if (!in_s.ok()) return fail(in_s.status());
    if (*in_s > 0) spec.expires_at = keys.now_s() + *in_s;
    auto issued = keys.create(spec);
    if (!issued.ok()) return fail(issued.status());
    print_issued(*issued, o.json);
    std::fprintf(stderr, "created %s for service %s (store it now: it is not shown again)\n",
                 issued->record.display_name().c_str(), spec.service.c_str());
    return 0;
  }
  if (action == "list") {
    auto all = keys.list(o.service);
    if (!all.ok()) return fail(all.status());
    if (o.json) {
      auto j = nlohmann::ordered_json::array();
      for (const ApiKeyRecord& r : *all) j.push_back(server::auth::api_key_record_json(r, false));
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      for (const ApiKeyRecord& r : *all) print_record(r, false);
    }
    return 0;
  }
  if (action == "show") {
    auto found = keys.find(o.id);
    if (!found.ok()) return fail(found.status());
    if (!*found) return fail(not_found("no API key with id '{}'", o.id));
    print_record(**found, true);
    return 0;
  }
  if (action == "rotate") {
    auto grace = parse_duration_s(o.grace);
    if (!grace.ok()) return fail(grace.status());
    auto issued = keys.rotate(o.id, *grace);
    if (!issued.ok()) return fail(issued.status());
    print_issued(*issued, o.json);
    std::fprintf(stderr, "rotated %s: the old key works for %lld more seconds\n", o.id.c_str(),
                 static_cast<long long>(*grace));
    return 0;
  }
  auto revoked = keys.revoke(o.id);  // "revoke"
  if (!revoked.ok()) return fail(revoked.status());
  std::fprintf(stderr, "revoked %s\n", revoked->display_name().c_str());
  return 0;
}

void add_store_options(CLI::App* sub, KeysOptions& o) {
  sub->add_option("--store", o.store,
                  "Key store URL: sqlite:PATH, redis://HOST:PORT/DB or "
                  "redis+cluster://HOST:PORT[,HOST:PORT...] (default: the config's)");
  sub->add_option("--config", o.config, "Configuration file whose auth.keys_store (and key prefixes) to use");
  sub->add_flag("--json", o.json, "Print JSON");
}

}  // namespace

Command add_keys_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("keys", "Create, list, rotate and revoke API keys");
  cmd->require_subcommand(1);
  auto o = std::make_shared<KeysOptions>();
  auto action = std::make_shared<std::string>();
  auto* create = cmd->add_subcommand("create", "Make a key (printed once) for a service");
  create->add_option("--service", o->service, "The service the key acts for")->required();
  create->add_option("--name", o->name, "A label for people");
  create->add_option("--scopes", o->scopes, "inference,sessions,admin (default inference,sessions)");
  create->add_option("--prefix", o->prefix, "Key prefix (default: the service's key_prefix, else inferd_)");
  create->add_option("--expires-in", o->expires_in, "Lifetime: 90s, 15m, 24h, 30d (default: none)");
  create->add_option("--rpm", o->rpm, "Requests per minute (0 = no limit)");
  create->add_option("--tpm", o->tpm, "Tokens per minute (0 = no limit)");
  create->add_option("--concurrent", o->concurrent, "Concurrent requests (0 = no limit)");
  auto* list = cmd->add_subcommand("list", "List keys (never the keys themselves)");
  list->add_option("--service", o->service, "Only this service's keys");
  auto* show = cmd->add_subcommand("show", "Show one key's record");
  show->add_option("id", o->id, "Key id")->required();
  auto* rotate = cmd->add_subcommand("rotate", "Replace a key; the old one works until the grace period ends");
  rotate->add_option("id", o->id, "Key id")->required();
  rotate->add_option("--grace", o->grace, "How long the old key keeps working (default 24h)");
  auto* revoke = cmd->add_subcommand("revoke", "Revoke a key at once");
  revoke->add_option("id", o->id, "Key id")->required();
  auto* hash = cmd->add_subcommand("hash", "Print a key's hash and api_keys entry for the configuration file");
  hash->add_option("key", o->key, "The whole key")->required();
  for (CLI::App* sub : {create, list, show, rotate, revoke}) add_store_options(sub, *o);
  for (CLI::App* sub : {create, list, show, rotate, revoke, hash})
    sub->callback([action, sub] { *action = sub->get_name(); });
  return {cmd, [o, action] { return run(*action, *o); }};
}

}  // namespace inferd::cli
