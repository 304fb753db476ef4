// SessionOptions: how the server keeps sessions (the store, lifetimes, prices for cost
// estimates). One struct, filled from the command line or the configuration file.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace inferd::server::sessions {

// Prices of one model, US dollars per million tokens (for cost estimates only).
struct ModelPrice {
  double prompt_per_mtok = 0;
  double completion_per_mtok = 0;
  double cached_per_mtok = 0;  // prompt tokens served from the KV cache
};

struct SessionOptions {
  // memory | sqlite:PATH | redis://[:PASSWORD@]HOST[:PORT][/DB] |
  // redis+cluster://[:PASSWORD@]HOST:PORT[,HOST:PORT...]; empty = default_store_url().
  std::string store_url;
  int64_t default_ttl_s = 24 * 3600;         // a session's lifetime when its creator names none
  int64_t max_ttl_s = 30 * 24 * 3600;        // longest lifetime a client may ask for
  int64_t sweep_interval_s = 60;             // background removal of expired entries; 0 = off
  int64_t max_messages = 100'000;            // per session; a turn beyond it is refused (400)
  // The model (id or alias) that summarises history a chat turn cannot fit; "" = trim only.
  std::string summary_model;
  int64_t summary_max_tokens = 256;  // length limit of one summary
  std::map<std::string, ModelPrice> prices;  // by model id
};

// sqlite:$XDG_STATE_HOME/inferd/sessions.db, else sqlite:$HOME/.local/state/inferd/sessions.db,
// else sqlite:./inferd-sessions.db.
std::string default_store_url();

}  // namespace inferd::server::sessions
