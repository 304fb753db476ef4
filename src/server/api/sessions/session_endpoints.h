// The session API, mounted under /v1 and the API prefix (OpenAI error envelope throughout;
// every answer holding a session record carries its version as ETag; If-Match on PATCH and
// DELETE makes the change conditional, 409 when stale). The caller's service owns what it
// creates; lists show only its own sessions and templates.
//
//   POST   /sessions                      create {session_id?, ttl_seconds?, user_id?, metadata?,
//                                          system_prompt?, template?}                       201
//   GET    /sessions                      list ?limit=1-100&offset&user_id              newest
//   first GET    /sessions/{id}                 the record PATCH  /sessions/{id} {metadata? (merge
//   patch), ttl_seconds? (from now),
//                                          user_id?, system_prompt?}
//   DELETE /sessions/{id}                 {"id","object":"session.deleted","deleted":true}
//   GET    /sessions/{id}/messages        ?limit=1-1000&offset
//   POST   /sessions/{id}/branch          {message_count, session_id?, ttl_seconds?, user_id?,
//                                          metadata?, system_prompt?}                       201
//   GET    /sessions/{id}/tree            the session tree it belongs to
//   GET    /sessions/{id}/export          a session.export document
//   POST   /sessions/import               a session.export document (?session_id= renames) 201
//   GET    /sessions/{id}/stats           turns, tokens, latency and cost of the session
//   GET    /sessions/usage                ?from=YYYY-MM-DD&to=YYYY-MM-DD&group_by=day,model,user
//   POST   /sessions/templates            {name, description?, system_prompt?, parameters?} 201
//   GET    /sessions/templates            list;  GET/DELETE /sessions/templates/{name}
//
// Every route answers 400 sessions_disabled when the server runs without sessions.
#pragma once

#include <memory>

#include "server/api/api_context.h"
#include "server/http/exchange.h"
#include "server/http/request.h"

namespace inferd::server {

void handle_create_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_list_sessions(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> exchange);
void handle_get_session(const ApiContext& api, const Request& request,
                        std::shared_ptr<Exchange> exchange);
void handle_update_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_delete_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_session_messages(const ApiContext& api, const Request& request,
                             std::shared_ptr<Exchange> exchange);
void handle_branch_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_session_tree(const ApiContext& api, const Request& request,
                         std::shared_ptr<Exchange> exchange);
void handle_export_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_import_session(const ApiContext& api, const Request& request,
                           std::shared_ptr<Exchange> exchange);
void handle_session_stats(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> exchange);
void handle_session_usage(const ApiContext& api, const Request& request,
                          std::shared_ptr<Exchange> exchange);
void handle_create_session_template(const ApiContext& api, const Request& request,
                                    std::shared_ptr<Exchange> exchange);
void handle_list_session_templates(const ApiContext& api, const Request& request,
                                   std::shared_ptr<Exchange> exchange);
void handle_get_session_template(const ApiContext& api, const Request& request,
                                 std::shared_ptr<Exchange> exchange);
void handle_delete_session_template(const ApiContext& api, const Request& request,
                                    std::shared_ptr<Exchange> exchange);

}  // namespace inferd::server
