#include "server/sessions/session_service.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/api/openai/chat_request.h"
#include "server/sessions/iso8601.h"
#include "server/sessions/legacy_message_keys.h"
#include "server/sessions/session_usage.h"

namespace inferd::server::sessions {
namespace {

constexpr int kMaxAttempts = 64;  // compare-and-set retries under contention
constexpr std::string_view kTemplatePrefix = "session_template:";

std::string sandbox_of(const Caller& c) {
  return c.service.empty() ? "default" : c.service;
}

std::string template_key(const Caller& c, std::string_view name) {
  return fmt::format("{}{}:{}", kTemplatePrefix, usage_key_part(c.service), name);
}

// An expiry in Unix ms for a lifetime in seconds from `now_ms` (0 = never).
int64_t expiry(int64_t now_ms, int64_t ttl_s) {
  return ttl_s > 0 ? now_ms + ttl_s * 1000 : 0;
}

std::vector<KvWrite> expire_messages(const SessionRecord& r, int64_t expires_at_ms) {
  std::vector<KvWrite> w;
  for (int64_t i = 0; i < r.message_count; ++i)
    w.push_back(KvWrite::expire(message_key(r.session_id, i), expires_at_ms));
  return w;
}

// JSON Merge Patch (RFC 7386) of `patch` into `target`.
void merge_patch(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = Json::object();
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null())
      target.erase(k);
    else
      merge_patch(target[k], v);
  }
}

}  // namespace

ApiError session_not_found(const std::string& id) {
  ApiError e =
      not_found_error("No session '" + id + "' (it may have expired)", "session_not_found");
  e.param = "session_id";
  return e;
}

ApiError version_conflict(const std::string& message) {
  ApiError e;
  e.status = 409;
  e.message = message;
  e.code = "session_version_conflict";
  return e;
}

ApiError store_error(const Status& status) {
  spdlog::error("session store: {}", status.to_string());
  return overloaded_error("the session store is unavailable; retry shortly", 1);
}

std::string default_store_url() {
  namespace fs = std::filesystem;
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
    return "sqlite:" + (fs::path(state) / "inferd" / "sessions.db").string();
  if (const char* home = std::getenv("HOME"); home && *home)
    return "sqlite:" + (fs::path(home) / ".local" / "state" / "inferd" / "sessions.db").string();
  return "sqlite:inferd-sessions.db";
}

Result<std::shared_ptr<SessionService>> SessionService::open(SessionOptions options) {
  if (options.store_url.empty()) options.store_url = default_store_url();
  if (options.default_ttl_s <= 0 || options.max_ttl_s <= 0 ||
      options.default_ttl_s > options.max_ttl_s)
    return invalid_argument("session TTLs must be positive, the default at most the maximum");
  auto store = open_kv_store(options.store_url);
  if (!store.ok()) return store.status().with_context("session store");
  // Stores written before the hash-tagged layout keep their conversations.
  if (auto moved = migrate_legacy_message_keys(**store); !moved.ok())
    spdlog::warn("session store: messages in the old key layout were not moved: {}",
                 moved.status().to_string());
  else if (*moved > 0)
    spdlog::info("session store: moved {} messages to the hash-tagged key layout", *moved);
  return std::make_shared<SessionService>(std::move(store).value(), std::move(options));
}

SessionService::SessionService(std::shared_ptr<KvStore> store, SessionOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (options_.sweep_interval_s > 0) sweeper_ = std::thread([this] { sweep_loop(); });
}

SessionService::~SessionService() {
  {
    std::lock_guard<std::mutex> lock(sweep_mu_);
    stopping_ = true;
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void SessionService::sweep_loop() {
  std::unique_lock<std::mutex> lock(sweep_mu_);
  while (!sweep_cv_.wait_for(lock, std::chrono::seconds(options_.sweep_interval_s),
                             [this] { return stopping_; })) {
    lock.unlock();
    if (auto n = sweep(); !n.ok())
      spdlog::warn("session sweep: {}", n.status().to_string());
    else if (*n > 0)
      spdlog::debug("session sweep removed {} expired entries", *n);
    lock.lock();
  }
}

Result<int64_t> SessionService::sweep() {
  return store_->sweep();
}

Result<int64_t> SessionService::ttl_for(std::optional<int64_t> requested) const {
  if (!requested) return options_.default_ttl_s;
  if (*requested < 1 || *requested > options_.max_ttl_s)
    return invalid_argument("'ttl_seconds' must be 1-{}", options_.max_ttl_s)
        .with_field("ttl_seconds");
  return *requested;
}

SessionResult<SessionService::Loaded> SessionService::load_record(const Caller& caller,
                                                                  const std::string& id) {
  if (!valid_session_id(id)) return session_not_found(id);
  auto raw = store_->get(record_key(id));
  if (!raw.ok()) return store_error(raw.status());
  if (!raw->has_value()) return session_not_found(id);
  const Json j = Json::parse(**raw, nullptr, false);
  auto r = record_from_json(j);
  if (!r.ok()) return store_error(r.status().with_context("corrupt record " + record_key(id)));
  if (r->service != caller.service) return session_not_found(id);
  return Loaded{std::move(r).value(), std::move(**raw)};
}

SessionResult<std::vector<Json>> SessionService::read_messages(const SessionRecord& r,
                                                               int64_t begin, int64_t end) {
  std::vector<std::string> keys;
  for (int64_t i = begin; i < end; ++i) keys.push_back(message_key(r.session_id, i));
  auto values = store_->get_many(keys);
  if (!values.ok()) return store_error(values.status());
  std::vector<Json> out;
  out.reserve(values->size());
  for (size_t i = 0; i < values->size(); ++i) {
    const auto& v = (*values)[i];
    // A message can only be missing if it expired in the instant since its record was read.
    if (!v) return session_not_found(r.session_id);
    Json m = Json::parse(*v, nullptr, false);
    if (!m.is_object()) return store_error(data_loss("corrupt message {}", keys[i]));
    out.push_back(std::move(m));
  }
  return out;
}

SessionResult<SessionRecord> SessionService::insert(SessionRecord r,
                                                    const std::vector<Json>& messages) {
  std::vector<KvWrite> writes;
  r.message_count = static_cast<int64_t>(messages.size());
  if (r.summary_message_count > r.message_count) {  // a branch before the summary's end
    r.summary.clear();
    r.summary_message_count = 0;
  }
  for (size_t i = 0; i < messages.size(); ++i)
    writes.push_back(KvWrite::put(message_key(r.session_id, static_cast<int64_t>(i)),
                                  dump_json(messages[i]), r.expires_at_ms));
  writes.push_back(
      KvWrite::put(record_key(r.session_id), dump_json(record_json(r)), r.expires_at_ms));
  auto done = store_->commit({{record_key(r.session_id), std::nullopt}}, writes);
  if (!done.ok()) return store_error(done.status());
  if (!*done) return version_conflict("a session with id '" + r.session_id + "' already exists");
  return r;
}

SessionResult<SessionRecord> SessionService::create(const Caller& caller, const CreateParams& p) {
  SessionRecord r;
  if (p.session_id.empty()) {
    auto id = new_session_id();
    if (!id.ok()) return api_error_from_status(id.status());
    r.session_id = std::move(id).value();
  } else {
    r.session_id = p.session_id;
  }
  auto ttl = ttl_for(p.ttl_s);
  if (!ttl.ok()) return api_error_from_status(ttl.status());
  if (!p.template_name.empty()) {
    auto t = get_template(caller, p.template_name);
    if (!t.ok()) return t.error();
    r.template_name = p.template_name;
    if ((*t)["system_prompt"].is_string())
      r.system_prompt = (*t)["system_prompt"].get<std::string>();
    r.parameters = (*t)["parameters"];
  }
  if (p.system_prompt) r.system_prompt = p.system_prompt;
  const int64_t now = unix_now_ms();
  r.sandbox_id = sandbox_of(caller);
  r.service = caller.service;
  r.user_id = p.user_id;
  r.created_at_ms = r.last_accessed_ms = now;
  r.ttl_s = *ttl;
  r.expires_at_ms = expiry(now, r.ttl_s);
  r.custom_metadata = p.metadata;
  return insert(std::move(r), {});
}

SessionResult<SessionRecord> SessionService::get(const Caller& caller, const std::string& id) {
  auto l = load_record(caller, id);
  if (!l.ok()) return l.error();
  return std::move(l->record);
}

SessionResult<SessionPage> SessionService::list(const Caller& caller, const ListQuery& q) {
  auto keys = store_->keys(std::string(kRecordPrefix));
  if (!keys.ok()) return store_error(keys.status());
  auto values = store_->get_many(*keys);
  if (!values.ok()) return store_error(values.status());
  std::vector<SessionRecord> mine;
  for (const auto& v : *values) {
    if (!v) continue;  // expired since it was listed
    auto r = record_from_json(Json::parse(*v, nullptr, false));
    if (!r.ok() || r->service != caller.service) continue;
    if (!q.user_id.empty() && r->user_id != q.user_id) continue;
    mine.push_back(std::move(r).value());
  }
  std::sort(mine.begin(), mine.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.created_at_ms != b.created_at_ms ? a.created_at_ms > b.created_at_ms
                                              : a.session_id < b.session_id;
  });
  SessionPage page;
  page.total = static_cast<int64_t>(mine.size());
  for (int64_t i = q.offset; i < page.total && i < q.offset + q.limit; ++i)
    page.sessions.push_back(std::move(mine[i]));
  return page;
}

SessionResult<MessagePage> SessionService::messages(const Caller& caller, const std::string& id,
                                                    int64_t offset, int64_t limit) {
  auto l = load_record(caller, id);
  if (!l.ok()) return l.error();
  const int64_t n = l->record.message_count;
  auto m = read_messages(l->record, std::min(offset, n), std::min(n, offset + limit));
  if (!m.ok()) return m.error();
  return MessagePage{std::move(m).value(), n};
}

SessionResult<SessionRecord> SessionService::mutate(const Caller& caller, const std::string& id,
                                                    std::optional<int64_t> expected_version,
                                                    const Change& change) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto l = load_record(caller, id);
    if (!l.ok()) return l.error();
    if (expected_version && l->record.version != *expected_version)
      return version_conflict(fmt::format("session '{}' is at version {}, not {} (If-Match)", id,
                                          l->record.version, *expected_version));
    SessionRecord r = l->record;
    std::vector<KvExpect> expect = {{record_key(id), l->raw}};
    std::vector<KvWrite> writes;
    if (auto e = change(r, expect, writes)) return *e;
    r.version += 1;
    r.last_accessed_ms = unix_now_ms();
    writes.push_back(KvWrite::put(record_key(id), dump_json(record_json(r)), r.expires_at_ms));
    auto done = store_->commit(expect, writes);
    if (!done.ok()) return store_error(done.status());
    if (*done) return r;
    // Someone else changed the record (or a counter) first: read again and retry; with
    // If-Match, the version check above answers 409 when it was the record.
  }
  return overloaded_error("session '" + id + "' is too busy; retry shortly", 1);
}

SessionResult<SessionRecord> SessionService::update(const Caller& caller, const std::string& id,
                                                    const UpdateParams& p,
                                                    std::optional<int64_t> expected_version) {
  std::optional<int64_t> ttl;
  if (p.ttl_s) {
    auto t = ttl_for(p.ttl_s);
    if (!t.ok()) return api_error_from_status(t.status());
    ttl = *t;
  }
  return mutate(caller, id, expected_version,
                [&](SessionRecord& r, auto&, std::vector<KvWrite>& writes) {
                  if (p.metadata) merge_patch(r.custom_metadata, *p.metadata);
                  if (p.user_id) r.user_id = *p.user_id;
                  if (p.system_prompt) r.system_prompt = *p.system_prompt;
                  if (ttl) {
                    r.ttl_s = *ttl;
                    r.expires_at_ms = expiry(unix_now_ms(), r.ttl_s);
                    writes = expire_messages(r, r.expires_at_ms);
                  }
                  return std::optional<ApiError>();
                });
}

SessionResult<SessionRecord> SessionService::remove(const Caller& caller, const std::string& id,
                                                    std::optional<int64_t> expected_version) {
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto l = load_record(caller, id);
    if (!l.ok()) return l.error();
    if (expected_version && l->record.version != *expected_version)
      return version_conflict(fmt::format("session '{}' is at version {}, not {} (If-Match)", id,
                                          l->record.version, *expected_version));
    std::vector<KvWrite> writes;
    for (int64_t i = 0; i < l->record.message_count; ++i)
      writes.push_back(KvWrite::erase(message_key(id, i)));
    writes.push_back(KvWrite::erase(record_key(id)));
    auto done = store_->commit({{record_key(id), l->raw}}, writes);
    if (!done.ok()) return store_error(done.status());
    if (*done) return std::move(l->record);
  }
  return overloaded_error("session '" + id + "' is too busy; retry shortly", 1);
}

SessionResult<SessionRecord> SessionService::branch(const Caller& caller, const std::string& id,
                                                    int64_t message_count, const CreateParams& p) {
  auto parent = load(caller, id);
  if (!parent.ok()) return parent.error();
  const int64_t n = parent->record.message_count;
  if (message_count < 0 || message_count > n) {
    ApiError e = invalid_request_error(
        fmt::format("'message_count' must be 0-{} (the session has {} messages)", n, n),
        "message_count");
    return e;
  }
  auto ttl = ttl_for(p.ttl_s ? p.ttl_s : std::optional<int64_t>(parent->record.ttl_s));
  if (!ttl.ok()) return api_error_from_status(ttl.status());
  SessionRecord r = parent->record;
  if (p.session_id.empty()) {
    auto new_id = new_session_id();
    if (!new_id.ok()) return api_error_from_status(new_id.status());
    r.session_id = std::move(new_id).value();
  } else {
    r.session_id = p.session_id;
  }
  const int64_t now = unix_now_ms();
  r.version = 1;
  r.created_at_ms = r.last_accessed_ms = now;
  r.ttl_s = *ttl;
  r.expires_at_ms = expiry(now, r.ttl_s);
  r.parent_session_id = id;
  r.parent_message_count = message_count;
  if (!p.user_id.empty()) r.user_id = p.user_id;
  if (!p.metadata.empty()) merge_patch(r.custom_metadata, p.metadata);
  if (p.system_prompt) r.system_prompt = p.system_prompt;
  parent->messages.resize(static_cast<size_t>(message_count));
  return insert(std::move(r), parent->messages);
}

SessionResult<Json> SessionService::tree(const Caller& caller, const std::string& id) {
  auto start = get(caller, id);
  if (!start.ok()) return start.error();
  ListQuery everything;
  everything.limit = INT64_MAX / 2;
  auto page = list(caller, everything);
  if (!page.ok()) return page.error();
  std::map<std::string, const SessionRecord*> by_id;
  for (const auto& r : page->sessions) by_id[r.session_id] = &r;
  // The root: follow parents while they exist (a deleted or expired parent ends the walk).
  std::string root = id;
  for (int depth = 0; depth < 10'000; ++depth) {
    const auto it = by_id.find(root);
    if (it == by_id.end() || it->second->parent_session_id.empty() ||
        !by_id.count(it->second->parent_session_id))
      break;
    root = it->second->parent_session_id;
  }
  // Descendants of the root, breadth first.
  Json sessions = Json::array();
  std::vector<std::string> frontier = {root};
  std::set<std::string> seen = {root};
  std::vector<const SessionRecord*> oldest_first;
  for (const auto& r : page->sessions) oldest_first.push_back(&r);
  std::reverse(oldest_first.begin(), oldest_first.end());
  for (size_t i = 0; i < frontier.size(); ++i) {
    const auto found = by_id.find(frontier[i]);
    if (found == by_id.end()) continue;  // expired while the tree was read
    const SessionRecord& r = *found->second;
    sessions.push_back({{"session_id", r.session_id},
                        {"parent_session_id",
                         r.parent_session_id.empty() ? Json(nullptr) : Json(r.parent_session_id)},
                        {"parent_message_count", r.parent_message_count},
                        {"message_count", r.message_count},
                        {"created_at", format_iso8601(r.created_at_ms)}});
    for (const SessionRecord* c : oldest_first)
      if (c->parent_session_id == r.session_id && seen.insert(c->session_id).second)
        frontier.push_back(c->session_id);
  }
  return Json{{"object", "session.tree"}, {"root", root}, {"sessions", std::move(sessions)}};
}

SessionResult<Json> SessionService::export_session(const Caller& caller, const std::string& id) {
  auto c = load(caller, id);
  if (!c.ok()) return c.error();
  Json messages = Json::array();
  for (auto& m : c->messages) messages.push_back(std::move(m));
  return Json{{"object", "session.export"},
              {"format_version", 1},
              {"session", record_json(c->record)},
              {"messages", std::move(messages)}};
}

SessionResult<SessionRecord> SessionService::import_session(const Caller& caller, const Json& doc,
                                                            const std::string& new_id) {
  if (!doc.is_object() || doc.value("object", "") != "session.export")
    return invalid_request_error(
        "the body must be a session export ({\"object\": \"session.export\", ...})", "object");
  if (doc.value("format_version", 0) != 1)
    return invalid_request_error("unsupported export 'format_version' (1 is supported)",
                                 "format_version");
  const auto s = doc.find("session");
  if (s == doc.end()) return invalid_request_error("'session' is required", "session");
  auto r = record_from_json(*s);
  if (!r.ok()) {
    ApiError e = api_error_from_status(r.status());
    if (e.param) e.param = "session." + *e.param;
    return e;
  }
  const auto m = doc.find("messages");
  if (m == doc.end() || !m->is_array())
    return invalid_request_error("'messages' must be an array", "messages");
  std::vector<Json> messages;
  for (size_t i = 0; i < m->size(); ++i) {
    const Json& msg = (*m)[i];
    if (!msg.is_object() || !msg.contains("role") || !msg["role"].is_string())
      return invalid_request_error(
          fmt::format("'messages[{}]' must be a message object with a 'role'", i),
          fmt::format("messages[{}]", i));
    messages.push_back(msg);
  }
  if (static_cast<int64_t>(messages.size()) > options_.max_messages)
    return invalid_request_error(
        fmt::format("a session holds at most {} messages", options_.max_messages), "messages");
  if (!new_id.empty()) r->session_id = new_id;
  auto ttl = ttl_for(r->ttl_s > 0 ? std::optional<int64_t>(std::min(r->ttl_s, options_.max_ttl_s))
                                  : std::nullopt);
  if (!ttl.ok()) return api_error_from_status(ttl.status());
  const int64_t now = unix_now_ms();
  r->service = caller.service;
  r->sandbox_id = sandbox_of(caller);
  r->version = 1;
  r->ttl_s = *ttl;
  r->expires_at_ms = expiry(now, r->ttl_s);
  r->last_accessed_ms = now;
  return insert(std::move(r).value(), messages);
}

SessionResult<Conversation> SessionService::load(const Caller& caller, const std::string& id) {
  auto l = load_record(caller, id);
  if (!l.ok()) return l.error();
  auto m = read_messages(l->record, 0, l->record.message_count);
  if (!m.ok()) return m.error();
  return Conversation{std::move(l->record), std::move(m).value()};
}

SessionResult<SessionRecord> SessionService::append_turn(const Caller& caller,
                                                         const std::string& id,
                                                         std::optional<int64_t> expected_version,
                                                         std::vector<Json> messages,
                                                         const TurnUsage& usage,
                                                         const std::optional<SessionSummary>& summary) {
  const int64_t now = unix_now_ms();
  for (Json& m : messages) m["created_at"] = format_iso8601(now);
  return mutate(caller, id, expected_version,
                [&](SessionRecord& r, std::vector<KvExpect>& expect,
                    std::vector<KvWrite>& writes) -> std::optional<ApiError> {
                  const auto n = static_cast<int64_t>(messages.size());
                  if (r.message_count + n > options_.max_messages)
                    return invalid_request_error(
                        fmt::format("session '{}' holds {} messages; at most {} are kept", id,
                                    r.message_count, options_.max_messages),
                        "session_id", "session_full");
                  // Renewed when less than half the lifetime remains.
                  if (r.ttl_s > 0 && r.expires_at_ms - now < r.ttl_s * 500) {
                    r.expires_at_ms = expiry(now, r.ttl_s);
                    writes = expire_messages(r, r.expires_at_ms);
                  }
                  for (int64_t i = 0; i < n; ++i)
                    writes.push_back(KvWrite::put(message_key(id, r.message_count + i),
                                                  dump_json(messages[i]), r.expires_at_ms));
                  if (summary && !summary->text.empty() &&
                      summary->message_count > r.summary_message_count &&
                      summary->message_count <= r.message_count) {
                    r.summary = summary->text;
                    r.summary_message_count = summary->message_count;
                  }
                  r.message_count += n;
                  auto counted = add_usage(*store_, r, usage, now, &expect, &writes);
                  if (!counted.ok()) return store_error(counted);
                  return std::nullopt;
                });
}

SessionResult<Json> SessionService::put_template(const Caller& caller, const Json& body) {
  const FieldReader f(body, "");
  std::string name, description, system_prompt;
  if (Status st = f.required_string("name", &name); !st.ok()) return api_error_from_status(st);
  if (!valid_session_id(name))
    return invalid_request_error(
        "'name' must be 1-128 of A-Z a-z 0-9 . _ - (not starting with '.')", "name");
  if (Status st = f.string("description", &description); !st.ok()) return api_error_from_status(st);
  if (Status st = f.string("system_prompt", &system_prompt); !st.ok())
    return api_error_from_status(st);
  Json parameters = Json::object();
  if (const Json* p = f.find("parameters")) {
    if (!p->is_object())
      return invalid_request_error("'parameters' must be an object", "parameters");
    parameters = *p;
    // The parameters must make a valid chat request (they fill the fields a turn leaves out).
    for (const char* reserved : {"messages", "session_id", "stream", "n"})
      if (parameters.contains(reserved))
        return invalid_request_error(fmt::format("'parameters' may not set '{}'", reserved),
                                     "parameters");
    Json probe = parameters;
    probe["messages"] = Json::array({{{"role", "user"}, {"content", "x"}}});
    if (auto parsed = openai::parse_chat_request(probe); !parsed.ok()) {
      ApiError e = api_error_from_status(parsed.status());
      e.param = "parameters." + e.param.value_or("");
      return e;
    }
  }
  Json t = {{"object", "session.template"},
            {"name", name},
            {"description", description},
            {"system_prompt", f.find("system_prompt") ? Json(system_prompt) : Json(nullptr)},
            {"parameters", parameters},
            {"created_at", format_iso8601(unix_now_ms())}};
  auto done = store_->commit({}, {KvWrite::put(template_key(caller, name), dump_json(t), 0)});
  if (!done.ok()) return store_error(done.status());
  return t;
}

SessionResult<Json> SessionService::get_template(const Caller& caller, const std::string& name) {
  auto v = valid_session_id(name) ? store_->get(template_key(caller, name))
                                  : Result<std::optional<std::string>>(std::nullopt);
  if (!v.ok()) return store_error(v.status());
  if (!v->has_value()) {
    ApiError e = not_found_error("No session template '" + name + "'", "template_not_found");
    e.param = "template";
    return e;
  }
  Json t = Json::parse(**v, nullptr, false);
  if (!t.is_object()) return store_error(data_loss("corrupt template {}", name));
  return t;
}

SessionResult<std::vector<Json>> SessionService::list_templates(const Caller& caller) {
  auto keys = store_->keys(template_key(caller, ""));
  if (!keys.ok()) return store_error(keys.status());
  auto values = store_->get_many(*keys);
  if (!values.ok()) return store_error(values.status());
  std::vector<Json> out;
  for (const auto& v : *values) {
    if (!v) continue;
    Json t = Json::parse(*v, nullptr, false);
    if (t.is_object()) out.push_back(std::move(t));
  }
  return out;
}

SessionResult<Json> SessionService::remove_template(const Caller& caller, const std::string& name) {
  auto t = get_template(caller, name);
  if (!t.ok()) return t.error();
  auto done = store_->commit({}, {KvWrite::erase(template_key(caller, name))});
  if (!done.ok()) return store_error(done.status());
  return std::move(t).value();
}

}  // namespace inferd::server::sessions
