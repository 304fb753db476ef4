// ModelRouter: which model answers a request. The model a request names (id or alias) if its
// service may use it (403 otherwise), else the service's default model, else the server's
// default; 404 for a name no model answers to. When that model cannot be loaded (load error,
// not enough memory) or its queue is full, its fallbacks are tried in order (those the service
// may use); so are they when its generation fails before anything was sent to the client
// (fall_back()). Each answer by a fallback is counted in inferd_model_fallbacks_total.
//
// Thread safety: route() may be called from any thread; its callback runs on the calling thread
// or on the registry's thread (see ModelRegistry). REQUIRES: the registry outlives the router's
// use, and the router outlives the registry's callbacks (declare it before the registry).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/http/error_response.h"
#include "server/registry/model_registry.h"
#include "server/registry/service_table.h"

namespace inferd::server {

class Telemetry;

// The candidates of one request and how far along them it is.
struct RoutePlan {
  std::vector<std::string> ids;  // the model chosen first, then its allowed fallbacks
  size_t index = 0;              // the candidate that answers
  int priority = 0;              // the service's priority
};

struct RoutedModel {
  ModelLease model;
  std::string requested_id;  // the model first chosen (before any fallback)
  bool fallback = false;     // `model` is a fallback of requested_id
  RoutePlan plan;
  // Set by the API layer when a candidate is left: answers the request with the next one after
  // `model` failed with the error given, before anything was sent to the client.
  std::function<void(ApiError)> fall_back;
};

class ModelRouter {
 public:
  using Callback = std::function<void(std::variant<RoutedModel, ApiError>)>;

  ModelRouter(ModelRegistry& registry, ServiceTable services, std::string default_model,
              std::shared_ptr<Telemetry> telemetry);

  // The models to try for `service` asking for `name` (empty = its default): the chosen one and
  // its allowed fallbacks, as ids. Errors: 404 unknown model, 403 a model the service may not use.
  std::variant<std::vector<std::string>, ApiError> candidates(std::string_view service,
                                                              std::string_view name) const;
  // Whether `service` may use model `id`.
  bool allowed(std::string_view service, const std::string& id) const;
  // Leases the model that answers, loading it (or a fallback) when needed.
  void route(std::string_view service, std::string_view name, Callback done) const;
  // After the candidate `plan.index` failed with `error` while generating: leases the next one
  // (reason "generation_failed"), or answers `error` when none is left.
  void fall_back(const RoutePlan& plan, ApiError error, Callback done) const;

  const ServiceTable& services() const { return services_; }
  const std::string& default_model() const { return default_model_; }

 private:
  struct Attempt;
  void try_candidate(std::shared_ptr<Attempt> attempt, size_t index) const;

  ModelRegistry& registry_;
  const ServiceTable services_;
  const std::string default_model_;  // empty = the registry's first model
  const std::shared_ptr<Telemetry> telemetry_;
};

// The API error for a failed acquisition of model `id`.
ApiError model_acquire_error(const std::string& id, const Status& status);

}  // namespace inferd::server
