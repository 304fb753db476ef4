// Session analytics: usage counters per service, UTC day, model and user, updated in the same
// atomic commit as each turn (so they never disagree with the stored turns), and the per-session
// statistics read from its messages.
//
// Counter entries, one per session and dimension:
// "session_usage:SERVICE|DAY|MODEL|USER|{session:ID}" (parts percent-escaped; the session's record
// key is the hash tag, so a counter shares the session's Redis Cluster slot and is committed with
// its turn), whose JSON value names its dimensions and sums: turns, prompt_tokens,
// completion_tokens, cached_tokens, ttft_ms, duration_ms. They are kept 400 days, past the
// session. Queries sum every entry under "session_usage:SERVICE|", so entries written before the
// per-session part (".../USER" alone) still count.
#pragma once

#include <string>
#include <vector>

#include "server/sessions/kv_store.h"
#include "server/sessions/session_options.h"
#include "server/sessions/session_record.h"

namespace inferd::server::sessions {

struct TurnUsage;

// `s` with '%', '|', ':' and bytes outside printable ASCII percent-escaped.
std::string usage_key_part(std::string_view s);

// Adds the turn to its counter: an expectation on the counter's current value and its new value.
Status add_usage(KvStore& store, const SessionRecord& record, const TurnUsage& usage,
                 int64_t now_ms, std::vector<KvExpect>* expect, std::vector<KvWrite>* writes);

struct UsageQuery {
  std::string from_day;               // "YYYY-MM-DD", inclusive; "" = no bound
  std::string to_day;                 // inclusive; "" = no bound
  std::vector<std::string> group_by;  // of "day", "model", "user"; empty = one total row
};

// {"object":"session.usage","from":..,"to":..,"group_by":[..],"data":[{day?,model?,user_id?,turns,
// prompt_tokens,completion_tokens,cached_tokens,avg_ttft_ms,avg_duration_ms,cost_usd}]}
Result<Json> query_usage(KvStore& store, const std::string& service, const UsageQuery& query,
                         const SessionOptions& options);

// Sums over a session's assistant messages: turns, tokens, average time to first token and
// duration, cost estimate.
Json session_stats(const SessionRecord& record, const std::vector<Json>& messages,
                   const SessionOptions& options);

}  // namespace inferd::server::sessions
