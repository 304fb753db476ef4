// KV persistence over HTTP (admin scope), enabled by a KV directory (inferd serve --kv-dir):
//   POST   /v1/kv/save     {"model"?, "name", "messages" | "prompt"} evaluates the prompt (a chat
//                          conversation rendered by the template, or a completion prompt) and
//                          saves its whole KV blocks as DIR/<model>/<name>.kv
//   POST   /v1/kv/restore  {"model"?, "name"} loads a saved prefix into the prefix cache
//   GET    /v1/kv          the saved prefixes of every model
//   DELETE /v1/kv/{name}   ?model=... erases one
// Names are 1-128 characters of [A-Za-z0-9._-] not starting with '.', so a name never leaves
// its model's directory.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server {

void handle_kv_save(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_kv_restore(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_kv_list(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_kv_erase(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

// Restores every saved prefix of `model` from the KV directory (at startup); returns the number
// of prefixes restored and logs the ones that fail.
int restore_saved_prefixes(const ApiContext& api, const ServedModel& model);

}  // namespace inferd::server
