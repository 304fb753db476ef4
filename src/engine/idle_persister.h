// IdlePersister: the policy that saves KV prefixes when the engine has nothing to do, so that
// long conversations and big system prompts survive a restart without a client asking for it.
//
// The engine loop tells it about each sequence that finished normally (its prompt and the
// output evaluated so far); sequences shorter than min_tokens are ignored, and a sequence that
// extends a remembered one (the next turn of a conversation) replaces it. Once the loop has been
// idle for idle_s seconds, it saves each remembered sequence's cached prefix as
// "<dir>/auto-<hash>.kv" (skipping ones already on disk) and then keeps at most max_files such
// files, removing the oldest. Saving reuses the loop's save function, on the loop's thread.
//
// Not thread-safe: used by the engine thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "inferd/token_id.h"

namespace inferd::engine {

struct IdlePersistOptions {
  std::string dir;            // empty: the policy is off
  double idle_s = 30.0;       // seconds without work before saving
  int64_t min_tokens = 128;   // shorter sequences are not worth a file
  int max_files = 64;         // auto-saved files kept in dir
};

class IdlePersister {
 public:
  using Clock = std::chrono::steady_clock;
  // Writes the cached prefix of `tokens` to `path`; returns the tokens written (0: none cached).
  using SaveFn = std::function<Result<int64_t>(const std::vector<TokenId>& tokens, const std::string& path)>;

  IdlePersister(IdlePersistOptions options, int64_t block_size);

  bool enabled() const { return !options_.dir.empty(); }
  // A sequence finished normally at `now` with these tokens (prompt, then evaluated output).
  void remember(std::vector<TokenId> tokens, Clock::time_point now);
  // Whether sequences wait to be saved, and from when the loop counts as idle enough.
  bool pending() const { return !pending_.empty(); }
  Clock::time_point due_at() const { return last_finish_ + idle_; }
  // Saves every pending sequence; returns the number of files written. Failures are logged and
  // the sequence is dropped (it would fail again).
  int persist(const SaveFn& save);

  // The file name an automatically saved prefix of `tokens` gets: "auto-<16 hex digits>.kv",
  // from the hash of its whole blocks.
  std::string file_name(const std::vector<TokenId>& tokens) const;

 private:
  void prune() const;

  IdlePersistOptions options_;
  int64_t block_size_;
  Clock::duration idle_;
  std::vector<std::vector<TokenId>> pending_;
  Clock::time_point last_finish_{};
};

}  // namespace inferd::engine
