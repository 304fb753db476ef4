// ApiContext: what the API handlers share: the model registry, the routing of requests to
// models (services, fallbacks) and the API's own settings.
//
// Two ways to fill it, once, before or while the server answers:
// - publish(): models loaded elsewhere (the single --model mode, tests); they stay loaded.
//   Until then GET /health says 503 "loading" and model requests get 503.
// - configure(): models loaded on demand under a memory budget, and services.
//
// Handlers never hold a model beyond the lease they get (with_model, find_loaded_model): the
// registry frees a model only once no lease is held.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <variant>
#include <string>
#include <vector>

#include "server/http/error_response.h"
#include "server/auth/access_control.h"
#include "server/http/exchange.h"
#include "server/registry/model_registry.h"
#include "server/registry/registry_config.h"
#include "server/registry/model_router.h"
#include "server/registry/service_table.h"
#include "server/served_model.h"
#include "server/sessions/session_service.h"
#include "server/telemetry/telemetry.h"

namespace inferd::server {

class ApiContext {
 public:
  using ModelHandler = std::function<void(RoutedModel)>;

  // Where saved KV prefixes live (one subdirectory per model); empty = KV persistence is off.
  // Set before the server starts.
  std::string kv_dir;

  // Server-side conversations (the session endpoints and chat turns naming a session_id);
  // nullptr = sessions are off. Set before the server starts.
  std::shared_ptr<sessions::SessionService> sessions;

  // API keys (the key endpoints); nullptr = access control is off. Set before the server starts.
  std::shared_ptr<auth::AccessControl> access;

  // Metrics, traces and the access log of the server (a default without trace export until
  // set_telemetry()). Install it as the HttpServer's observer too.
  const std::shared_ptr<Telemetry>& telemetry() const { return telemetry_; }
  // Call before publish() or configure().
  void set_telemetry(std::shared_ptr<Telemetry> telemetry) { telemetry_ = std::move(telemetry); }

  // Makes `models` (the first is the default) visible to requests, pinned. Call once (and not
  // with configure()).
  void publish(std::vector<std::unique_ptr<ServedModel>> models);
  // Registers the configured models and services and starts the registry (preloads begin).
  // Errors: invalid or duplicate models, a default model or a service's model that is unknown.
  // Call once (and not with publish()).
  Status configure(RegistryConfig config);

  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Null until ready().
  ModelRegistry* registry() const { return ready() ? registry_.get() : nullptr; }
  const ModelRouter* router() const { return ready() ? router_.get() : nullptr; }

  // Leases on the loaded models (empty until ready()).
  std::vector<ModelLease> models() const;

  // The model a request of `request`'s service names (empty = the default; see ModelRouter),
  // loaded if needed: calls `then` with it, or answers `exchange` with the error (403, 404,
  // 503 while the server starts or when memory cannot be found, 500 when loading fails).
  // `then` runs on this thread or the registry's. While fallbacks are left, the model `then`
  // gets has `fall_back` set: it runs `then` again with the next fallback (or answers the
  // error). REQUIRES: this context outlives the requests (the server stops first).
  void with_model(const Request& request, std::string_view name, std::shared_ptr<Exchange> exchange,
                  ModelHandler then) const;
  // The model `name` names (empty = the default) if it is loaded now: 503 while the server
  // starts, 404 when unknown, 400 model_not_loaded when it is not in memory.
  ModelLease find_loaded_model(std::string_view name, ApiError* error) const;

 private:
  // Calls `then` with the routed model (with its fall_back set), or answers the error.
  void deliver(std::variant<RoutedModel, ApiError> routed, std::shared_ptr<Exchange> exchange,
               ModelHandler then) const;

  std::shared_ptr<Telemetry> telemetry_ = std::make_shared<Telemetry>();
  std::atomic<bool> ready_{false};
  // Declared last: destroyed first, while the router it calls back into still lives.
  std::unique_ptr<ModelRouter> router_;
  std::unique_ptr<ModelRegistry> registry_;
};

}  // namespace inferd::server
