#include "server/registry/model_router.h"

#include <algorithm>

#include "server/registry/model_errors.h"
#include "server/telemetry/telemetry.h"

namespace inferd::server {

struct ModelRouter::Attempt {
  RoutePlan plan;
  std::string reason;  // why the previous candidate was skipped
  std::optional<ApiError> first_error;
  Callback done;
};

ApiError model_not_found_error(std::string_view name) {
  ApiError e =
      not_found_error("The model '" + std::string(name) + "' does not exist", "model_not_found");
  e.param = "model";
  return e;
}

ApiError model_acquire_error(const std::string& id, const Status& status) {
  if (status.code() == StatusCode::kResourceExhausted) {
    ApiError e = overloaded_error(status.message(), 30);
    e.code = "insufficient_memory";
    return e;
  }
  ApiError e = server_error("The model '" + id + "' could not be loaded: " + status.message());
  e.code = "model_load_failed";
  return e;
}

ModelRouter::ModelRouter(ModelRegistry& registry, ServiceTable services, std::string default_model,
                         std::shared_ptr<Telemetry> telemetry)
    : registry_(registry),
      services_(std::move(services)),
      default_model_(std::move(default_model)),
      telemetry_(std::move(telemetry)) {}

bool ModelRouter::allowed(std::string_view service, const std::string& id) const {
  const ServiceSpec* s = services_.find(service);
  if (!s || s->allowed_models.empty()) return true;
  return std::any_of(s->allowed_models.begin(), s->allowed_models.end(),
                     [&](const std::string& name) { return registry_.resolve(name) == id; });
}

std::variant<std::vector<std::string>, ApiError> ModelRouter::candidates(
    std::string_view service, std::string_view name) const {
  const ServiceSpec* s = services_.find(service);
  std::string wanted(name);
  if (wanted.empty() && s) wanted = s->default_model;
  if (wanted.empty()) wanted = default_model_.empty() ? registry_.first_id() : default_model_;
  const auto id = registry_.resolve(wanted);
  if (!id) return model_not_found_error(wanted);
  if (!allowed(service, *id)) {
    ApiError e = permission_error("The service '" + std::string(service) +
                                  "' may not use the model '" + wanted + "'");
    e.param = "model";
    e.code = "model_not_allowed";
    return e;
  }
  std::vector<std::string> ids = {*id};
  for (const std::string& f : registry_.fallbacks(*id)) {
    const auto fid = registry_.resolve(f);
    if (fid && allowed(service, *fid) && std::find(ids.begin(), ids.end(), *fid) == ids.end())
      ids.push_back(*fid);
  }
  return ids;
}

void ModelRouter::route(std::string_view service, std::string_view name, Callback done) const {
  auto c = candidates(service, name);
  if (auto* e = std::get_if<ApiError>(&c)) return done(std::move(*e));
  auto attempt = std::make_shared<Attempt>();
  attempt->plan.ids = std::move(std::get<std::vector<std::string>>(c));
  if (const ServiceSpec* s = services_.find(service))
    attempt->plan.priority = static_cast<int>(s->priority);
  attempt->done = std::move(done);
  try_candidate(std::move(attempt), 0);
}

void ModelRouter::fall_back(const RoutePlan& plan, ApiError error, Callback done) const {
  if (plan.index + 1 >= plan.ids.size() || registry_.stopping()) return done(std::move(error));
  auto attempt = std::make_shared<Attempt>();
  attempt->plan = plan;
  attempt->reason = "generation_failed";
  attempt->first_error = std::move(error);
  attempt->done = std::move(done);
  try_candidate(std::move(attempt), plan.index + 1);
}

void ModelRouter::try_candidate(std::shared_ptr<Attempt> attempt, size_t index) const {
  const std::string id = attempt->plan.ids[index];
  registry_.acquire(id, [this, attempt, index, id](Result<ModelLease> lease) {
    const bool last = index + 1 == attempt->plan.ids.size() || registry_.stopping();
    if (lease.ok() && (*lease)->overloaded() && !last) {
      if (!attempt->first_error)
        attempt->first_error = overloaded_error("The model '" + id + "' is overloaded", 1);
      attempt->reason = "overloaded";
      return try_candidate(attempt, index + 1);
    }
    if (!lease.ok()) {
      if (!attempt->first_error) attempt->first_error = model_acquire_error(id, lease.status());
      if (last) return attempt->done(*attempt->first_error);
      attempt->reason = "load_failed";
      return try_candidate(attempt, index + 1);
    }
    RoutedModel r;
    r.model = std::move(lease).value();
    r.requested_id = attempt->plan.ids.front();
    r.fallback = index > 0;
    r.plan = attempt->plan;
    r.plan.index = index;
    if (r.fallback && telemetry_) telemetry_->count_fallback(r.requested_id, id, attempt->reason);
    attempt->done(std::move(r));
  });
}

}  // namespace inferd::server
