// The move of session messages from the key layout before Redis Cluster hash tags
// ("session_messages:ID:00000042") to the current one ("session_messages:{session:ID}:00000042",
// see session_record.h), run when a session store opens so that stores written by earlier
// versions keep their conversations.
#pragma once

#include <cstdint>

#include "server/sessions/kv_store.h"

namespace inferd::server::sessions {

// Moves every message under a legacy key to its current key, one session per commit guarded by
// the session's record (the messages take the record's expiry); legacy messages whose session is
// gone are erased. Returns how many messages moved. Cost: one prefix listing of the messages,
// plus one commit per session found in the legacy layout (none once moved).
Result<int64_t> migrate_legacy_message_keys(KvStore& store);

}  // namespace inferd::server::sessions
