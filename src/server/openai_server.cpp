#include "server/openai_server.h"

#include "server/api/json_body.h"
#include "server/api/metrics_endpoint.h"
#include "server/api/openai/chat_completions.h"
#include "server/api/openai/completions.h"
#include "server/api/openai/model_endpoints.h"
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

Handler index_handler(std::shared_ptr<const ApiContext> api, Json endpoints) {
  return [api, endpoints = std::move(endpoints)](const Request&, std::shared_ptr<Exchange> ex) {
    Json models = Json::array();
    for (const auto& m : api->models()) models.push_back(m->id());
    const Json j = {{"name", kServerName}, {"version", kServerVersion}, {"ready", api->ready()},
                    {"models", std::move(models)}, {"endpoints", endpoints}};
    (void)ex->respond(200, kJsonContentType, dump_json(j));
  };
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
    Handler handler = e.handler ? Handler([api, h = e.handler](const Request& r, std::shared_ptr<Exchange> ex) {
      h(*api, r, std::move(ex));
    })
                                : index_handler(api, listing);
    INFERD_RETURN_IF_ERROR(router.add({.method = e.method, .pattern = e.pattern, .handler = std::move(handler),
                                       .auth_scope = e.auth_scope, .rate_class = e.rate_class},
                                      prefixes_of(e, api_prefix)));
  }
  return router;
}

}  // namespace inferd::server
