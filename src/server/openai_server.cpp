#include "server/openai_server.h"

#include "server/api/json_body.h"
#include "server/api/key_endpoints.h"
#include "server/api/kv_endpoints.h"
#include "server/api/metrics_endpoint.h"
#include "server/api/model_admin_endpoints.h"
#include "server/api/openai/chat_completions.h"
#include "server/api/openai/completions.h"
#include "server/api/openai/model_endpoints.h"
#include "server/api/sessions/session_endpoints.h"
#include "server/http/exchange.h"

namespace inferd::server {
namespace {

using ApiHandler = void (*)(const ApiContext&, const Request&, std::shared_ptr<Exchange>);

struct Endpoint {
  const char* method;
  const char* pattern;
  ApiHandler handler;       // nullptr: the index (GET /), which lists this table
  bool under_api_prefixes;  // mounted under /v1 and the API prefix; else at the root
  AuthScope auth_scope;
  RateClass rate_class;
};

// The one table of endpoints.
constexpr Endpoint kEndpoints[] = {
    {"POST", "/chat/completions", openai::handle_chat_completions, true, AuthScope::kInference, RateClass::kInference},
    {"POST", "/completions", openai::handle_completions, true, AuthScope::kInference, RateClass::kInference},
    {"POST", "/embeddings", openai::handle_embeddings, true, AuthScope::kInference, RateClass::kInference},
    {"GET", "/models", openai::handle_list_models, true, AuthScope::kInference, RateClass::kLight},
    {"GET", "/models/{model}", openai::handle_get_model, true, AuthScope::kInference, RateClass::kLight},
    {"POST", "/models/{model}/load", handle_model_load, true, AuthScope::kAdmin, RateClass::kLight},
    {"POST", "/models/{model}/unload", handle_model_unload, true, AuthScope::kAdmin, RateClass::kLight},
    {"GET", "/memory", handle_memory, true, AuthScope::kAdmin, RateClass::kLight},
    {"POST", "/kv/save", handle_kv_save, true, AuthScope::kAdmin, RateClass::kInference},
    {"POST", "/kv/restore", handle_kv_restore, true, AuthScope::kAdmin, RateClass::kLight},
    {"GET", "/kv", handle_kv_list, true, AuthScope::kAdmin, RateClass::kLight},
    {"DELETE", "/kv/{name}", handle_kv_erase, true, AuthScope::kAdmin, RateClass::kLight},
    {"POST", "/keys", handle_create_key, true, AuthScope::kAdmin, RateClass::kLight},
    {"GET", "/keys", handle_list_keys, true, AuthScope::kAdmin, RateClass::kLight},
    {"GET", "/keys/{id}", handle_get_key, true, AuthScope::kAdmin, RateClass::kLight},
    {"POST", "/keys/{id}/rotate", handle_rotate_key, true, AuthScope::kAdmin, RateClass::kLight},
    {"DELETE", "/keys/{id}", handle_revoke_key, true, AuthScope::kAdmin, RateClass::kLight},
    // Sessions (session_endpoints.h): a service's own conversations.
    {"POST", "/sessions", handle_create_session, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions", handle_list_sessions, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/usage", handle_session_usage, true, AuthScope::kSessions, RateClass::kLight},
    {"POST", "/sessions/import", handle_import_session, true, AuthScope::kSessions, RateClass::kLight},
    {"POST", "/sessions/templates", handle_create_session_template, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/templates", handle_list_session_templates, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/templates/{name}", handle_get_session_template, true, AuthScope::kSessions, RateClass::kLight},
    {"DELETE", "/sessions/templates/{name}", handle_delete_session_template, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/{session_id}", handle_get_session, true, AuthScope::kSessions, RateClass::kLight},
    {"PATCH", "/sessions/{session_id}", handle_update_session, true, AuthScope::kSessions, RateClass::kLight},
    {"DELETE", "/sessions/{session_id}", handle_delete_session, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/{session_id}/messages", handle_session_messages, true, AuthScope::kSessions, RateClass::kLight},
    {"POST", "/sessions/{session_id}/branch", handle_branch_session, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/{session_id}/tree", handle_session_tree, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/{session_id}/export", handle_export_session, true, AuthScope::kSessions, RateClass::kLight},
    {"GET", "/sessions/{session_id}/stats", handle_session_stats, true, AuthScope::kSessions, RateClass::kLight},
    {"POST", "/tokenize", openai::handle_tokenize, false, AuthScope::kInference, RateClass::kLight},
    {"POST", "/detokenize", openai::handle_detokenize, false, AuthScope::kInference, RateClass::kLight},
    {"GET", "/health", openai::handle_health, false, AuthScope::kPublic, RateClass::kUnlimited},
    {"GET", "/metrics", handle_metrics, false, AuthScope::kPublic, RateClass::kUnlimited},
    {"GET", "/", nullptr, false, AuthScope::kPublic, RateClass::kUnlimited},
};

std::vector<std::string> prefixes_of(const Endpoint& e, const std::string& api_prefix) {
  if (!e.under_api_prefixes) return {""};
  std::vector<std::string> out = {"/v1"};
  if (!api_prefix.empty()) out.push_back(api_prefix);
  return out;
}

// Handlers hold the API context weakly: connections (and the engine threads that answer them)
// can outlive the server, and the context must be destroyed by its owner, never by the last
// connection on an engine thread (its engine loop would then join itself).
Handler api_handler(std::weak_ptr<const ApiContext> weak, ApiHandler handler) {
  return [weak, handler](const Request& r, std::shared_ptr<Exchange> ex) {
    const auto api = weak.lock();
    if (!api) return (void)respond_error(*ex, overloaded_error("the server is shutting down", 1));
    handler(*api, r, std::move(ex));
  };
}

void handle_index(const ApiContext& api, const Json& endpoints, Exchange& ex) {
  Json models = Json::array();
  if (ModelRegistry* registry = api.registry())
    for (const ModelStatus& s : registry->status()) models.push_back(s.id);
  const Json j = {{"name", kServerName}, {"version", kServerVersion}, {"ready", api.ready()},
                  {"models", std::move(models)}, {"endpoints", endpoints}};
  (void)ex.respond(200, kJsonContentType, dump_json(j));
}

}  // namespace

Result<Router> make_openai_router(std::shared_ptr<const ApiContext> api, const std::string& api_prefix) {
  if (api_prefix == "/v1") return invalid_argument("the API prefix must differ from /v1");
  Json listing = Json::array();
  for (const Endpoint& e : kEndpoints)
    for (const std::string& prefix : prefixes_of(e, api_prefix))
      listing.push_back(std::string(e.method) + " " + (prefix.empty() ? e.pattern : prefix + e.pattern));

  Router router;
  for (const Endpoint& e : kEndpoints) {
    Handler handler = e.handler ? api_handler(api, e.handler)
                                : [weak = std::weak_ptr<const ApiContext>(api), listing](const Request&, std::shared_ptr<Exchange> ex) {
                                    if (const auto a = weak.lock()) handle_index(*a, listing, *ex);
                                    else (void)respond_error(*ex, overloaded_error("the server is shutting down", 1));
                                  };
    INFERD_RETURN_IF_ERROR(router.add({.method = e.method, .pattern = e.pattern, .handler = std::move(handler),
                                       .auth_scope = e.auth_scope, .rate_class = e.rate_class},
                                      prefixes_of(e, api_prefix)));
  }
  return router;
}

}  // namespace inferd::server
