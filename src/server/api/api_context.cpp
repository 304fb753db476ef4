#include "server/api/api_context.h"

#include "base/check.h"
#include "server/registry/model_errors.h"

namespace inferd::server {

void ApiContext::publish(std::vector<std::unique_ptr<ServedModel>> models) {
  registry_ = std::make_unique<ModelRegistry>(RegistryOptions{}, telemetry_);
  for (auto& m : models) {
    m->attach_telemetry(telemetry_);
    const Status st = registry_->add_loaded(std::move(m));
    INFERD_CHECK_MSG(st.ok(), "published models must have distinct names");
  }
  router_ = std::make_unique<ModelRouter>(*registry_, ServiceTable{}, std::string(), telemetry_);
  registry_->start();
  ready_.store(true, std::memory_order_release);
}

Status ApiContext::configure(RegistryConfig config) {
  auto registry = std::make_unique<ModelRegistry>(config.options, telemetry_);
  for (ModelSpec& spec : config.models) INFERD_RETURN_IF_ERROR(registry->add(std::move(spec)));
  if (!config.default_model.empty() && !registry->resolve(config.default_model))
    return invalid_argument("the default model '{}' is not a configured model",
                            config.default_model);
  for (const ServiceSpec& s : config.services.services()) {
    if (!s.default_model.empty() && !registry->resolve(s.default_model))
      return invalid_argument("service '{}': its default model '{}' is not a configured model",
                              s.name, s.default_model);
    for (const std::string& m : s.allowed_models)
      if (!registry->resolve(m))
        return invalid_argument("service '{}': allowed model '{}' is not a configured model",
                                s.name, m);
  }
  registry_ = std::move(registry);
  router_ = std::make_unique<ModelRouter>(*registry_, std::move(config.services),
                                          config.default_model, telemetry_);
  registry_->start();
  ready_.store(true, std::memory_order_release);
  return {};
}

std::vector<ModelLease> ApiContext::models() const {
  if (!ready()) return {};
  return registry_->loaded();
}

void ApiContext::with_model(const Request& request, std::string_view name,
                            std::shared_ptr<Exchange> exchange, ModelHandler then) const {
  if (!ready())
    return (void)respond_error(*exchange,
                               overloaded_error("the model is loading; retry shortly", 5));
  router_->route(request.caller.service, name,
                 [this, exchange = std::move(exchange),
                  then = std::move(then)](std::variant<RoutedModel, ApiError> r) {
                   deliver(std::move(r), exchange, then);
                 });
}

void ApiContext::deliver(std::variant<RoutedModel, ApiError> r, std::shared_ptr<Exchange> exchange,
                         ModelHandler then) const {
  if (auto* e = std::get_if<ApiError>(&r)) return (void)respond_error(*exchange, *e);
  RoutedModel routed = std::move(std::get<RoutedModel>(r));
  if (routed.plan.index + 1 < routed.plan.ids.size())
    routed.fall_back = [this, plan = routed.plan, exchange, then](ApiError error) {
      router_->fall_back(plan, std::move(error),
                         [this, exchange, then](std::variant<RoutedModel, ApiError> next) {
                           deliver(std::move(next), exchange, then);
                         });
    };
  then(std::move(routed));
}

ModelLease ApiContext::find_loaded_model(std::string_view name, ApiError* error) const {
  if (!ready()) {
    *error = overloaded_error("the model is loading; retry shortly", 5);
    return nullptr;
  }
  std::string wanted(name);
  if (wanted.empty())
    wanted = router_->default_model().empty() ? registry_->first_id() : router_->default_model();
  const auto id = registry_->resolve(wanted);
  if (!id) {
    *error = model_not_found_error(wanted);
    return nullptr;
  }
  ModelLease lease = registry_->lease_if_loaded(*id);
  if (!lease) {
    *error = invalid_request_error("The model '" + wanted +
                                       "' is not loaded; load it first (POST /v1/models/" + *id +
                                       "/load)",
                                   "model", "model_not_loaded");
  }
  return lease;
}

}  // namespace inferd::server
