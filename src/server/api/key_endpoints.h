// API key management (admin scope), under /v1 and the API prefix:
//   POST   /keys              create: {service, name?, scopes?, prefix?, expires_at? (ISO-8601) |
//                             expires_in_s?, requests_per_minute?, tokens_per_minute?, concurrent?}
//                             -> 201 with the record and "key" (the only time the key is shown)
//   GET    /keys[?service=S]  list: {"object": "list", "data": [records]} (configured keys too)
//   GET    /keys/{id}         one record
//   POST   /keys/{id}/rotate  {grace_s? (default 86400)} -> 201 the new key; the old one works
//                             until the deadline
//   DELETE /keys/{id}         revoke -> the record with revoked_at
// Records never contain keys or hashes. Keys listed in the configuration file are read-only
// (400 key_read_only); without auth.keys_store every change is 400 no_keys_store.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"

namespace inferd::server {

void handle_create_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_list_keys(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_get_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_rotate_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);
void handle_revoke_key(const ApiContext& api, const Request& request, std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server
