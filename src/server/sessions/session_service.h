// SessionService: server-side conversations on a KvStore, owned by services.
//
// Ownership: a session belongs to the service of the caller that created it; for every other
// service it does not exist (404), so ids cannot be probed across services.
//
// Messages are JSON objects: the OpenAI fields (role, content, name, tool_calls, tool_call_id)
// plus created_at, tokens (this message's token count) and, on assistant messages, model,
// prompt_tokens, completion_tokens, cached_tokens, ttft_ms and duration_ms of the turn.
//
// Concurrency: every change is a compare-and-set of the record (its version grows by one), so
// concurrent writers never lose each other's changes: without If-Match they are applied one
// after the other (retried on contention); with If-Match (expected_version) a writer whose
// version is stale gets 409 and changes nothing.
//
// Atomicity: each commit writes the keys of exactly one session (its record, messages and usage
// counters, which share the record key as hash tag: one Redis Cluster slot), so every change is
// atomic on every store, a cluster included: create, import and branch write the new session
// whole (a branch only reads its parent); a turn writes its messages, counters and record; a
// delete erases messages and record; a TTL change re-expires messages and record together.
// Templates are one key each.
//
// Expiry: a session lives ttl_s seconds from its creation; each turn renews it when less than
// half remains (so an active conversation does not expire), and update() can set a new TTL.
// Expired sessions are invisible at once and removed by the background sweep.
//
// Store I/O is synchronous and short (a local SQLite transaction or a Redis round trip); a chat
// turn commits on the model's engine thread. list() and tree() read every session record of the
// store (all services), so they cost O(sessions); a turn costs O(1) store operations, plus a
// rewrite of every message's expiry when its TTL is renewed.
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/http/caller.h"
#include "server/sessions/kv_store.h"
#include "server/sessions/session_options.h"
#include "server/sessions/session_record.h"
#include "server/sessions/session_result.h"

namespace inferd::server::sessions {

struct CreateParams {
  std::string session_id;  // empty: a new random id
  std::optional<int64_t> ttl_s;
  std::string user_id;
  Json metadata = Json::object();
  std::optional<std::string> system_prompt;
  std::string
      template_name;  // its system prompt and parameters apply (an explicit system prompt wins)
};

struct UpdateParams {
  std::optional<Json> metadata;  // merged into custom_metadata (RFC 7386: null removes a key)
  std::optional<int64_t> ttl_s;  // the new lifetime, from now
  std::optional<std::string> user_id;
  std::optional<std::string> system_prompt;
};

struct ListQuery {
  std::string user_id;  // "" = every user
  int64_t limit = 20;
  int64_t offset = 0;
};

struct SessionPage {
  std::vector<SessionRecord> sessions;  // newest first
  int64_t total = 0;
};

struct MessagePage {
  std::vector<Json> messages;
  int64_t total = 0;
};

// A session's stored state as a chat turn needs it.
struct Conversation {
  SessionRecord record;
  std::vector<Json> messages;  // every stored message, oldest first
};

// A summary of a session's oldest messages.
struct SessionSummary {
  std::string text;
  int64_t message_count = 0;  // messages [0, message_count) it stands for
};

// What one finished chat turn cost.
struct TurnUsage {
  std::string model;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;
  double ttft_ms = 0;
  double duration_ms = 0;
};

class SessionService {
 public:
  // Opens options.store_url (or the default) and starts the background sweep.
  static Result<std::shared_ptr<SessionService>> open(SessionOptions options);
  SessionService(std::shared_ptr<KvStore> store, SessionOptions options);
  ~SessionService();
  SessionService(const SessionService&) = delete;
  SessionService& operator=(const SessionService&) = delete;

  const SessionOptions& options() const { return options_; }
  KvStore& store() { return *store_; }

  SessionResult<SessionRecord> create(const Caller& caller, const CreateParams& params);
  SessionResult<SessionRecord> get(const Caller& caller, const std::string& id);
  SessionResult<SessionPage> list(const Caller& caller, const ListQuery& query);
  SessionResult<MessagePage> messages(const Caller& caller, const std::string& id, int64_t offset,
                                      int64_t limit);
  SessionResult<SessionRecord> update(const Caller& caller, const std::string& id,
                                      const UpdateParams& params,
                                      std::optional<int64_t> expected_version);
  SessionResult<SessionRecord> remove(const Caller& caller, const std::string& id,
                                      std::optional<int64_t> expected_version);

  // A new session holding the first `message_count` messages of `id` (its system prompt,
  // parameters and metadata too), linked to it as its parent.
  SessionResult<SessionRecord> branch(const Caller& caller, const std::string& id,
                                      int64_t message_count, const CreateParams& params);
  // The tree `id` belongs to: {"root": id, "sessions": [{session_id, parent_session_id,
  // parent_message_count, message_count, created_at}...]} (roots first, then by creation).
  SessionResult<Json> tree(const Caller& caller, const std::string& id);

  // {"object":"session.export","format_version":1,"session":record,"messages":[...]}
  SessionResult<Json> export_session(const Caller& caller, const std::string& id);
  // Stores an export as a new session of the caller (its id, or `new_id` when given; a taken id
  // is 409). Times and message order are kept; ownership and version are the importer's.
  SessionResult<SessionRecord> import_session(const Caller& caller, const Json& exported,
                                              const std::string& new_id);

  // For a chat turn: the record and its messages.
  SessionResult<Conversation> load(const Caller& caller, const std::string& id);
  // Appends one finished turn (the client's messages, then the answer) atomically, with the
  // summary the turn made of older messages, if any (kept only when it covers more than the
  // stored one).
  SessionResult<SessionRecord> append_turn(const Caller& caller, const std::string& id,
                                           std::optional<int64_t> expected_version,
                                           std::vector<Json> messages, const TurnUsage& usage,
                                           const std::optional<SessionSummary>& summary = {});

  // Removes expired entries now; the background sweep calls it every sweep_interval_s.
  Result<int64_t> sweep();

  // Templates: named system prompts with generation parameters, per service.
  // {name, description, system_prompt, parameters, created_at}
  SessionResult<Json> put_template(const Caller& caller, const Json& body);
  SessionResult<Json> get_template(const Caller& caller, const std::string& name);
  SessionResult<std::vector<Json>> list_templates(const Caller& caller);
  SessionResult<Json> remove_template(const Caller& caller, const std::string& name);

 private:
  struct Loaded {
    SessionRecord record;
    std::string raw;  // the stored record, for the compare-and-set
  };
  // The caller's live session, or 404.
  SessionResult<Loaded> load_record(const Caller& caller, const std::string& id);
  // Reads, lets `change` edit the record and add writes/expectations, and commits with the
  // version bumped; retried on contention, 409 when expected_version is stale.
  using Change = std::function<std::optional<ApiError>(SessionRecord&, std::vector<KvExpect>&,
                                                       std::vector<KvWrite>&)>;
  SessionResult<SessionRecord> mutate(const Caller& caller, const std::string& id,
                                      std::optional<int64_t> expected_version,
                                      const Change& change);
  // Stores a new record and its messages (the id must be free: 409 otherwise).
  SessionResult<SessionRecord> insert(SessionRecord record, const std::vector<Json>& messages);
  SessionResult<std::vector<Json>> read_messages(const SessionRecord& r, int64_t begin,
                                                 int64_t end);
  Result<int64_t> ttl_for(std::optional<int64_t> requested) const;
  void sweep_loop();

  std::shared_ptr<KvStore> store_;
  const SessionOptions options_;

  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

// Errors of the session API.
ApiError session_not_found(const std::string& id);
ApiError version_conflict(const std::string& message);
// A store failure: logged, answered 503 with Retry-After.
ApiError store_error(const Status& status);

}  // namespace inferd::server::sessions
