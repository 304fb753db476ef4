#include "server/api/model_admin_endpoints.h"

#include "server/api/json_body.h"
#include "server/api/openai/model_endpoints.h"
#include "server/http/sse.h"
#include "server/registry/model_errors.h"

namespace inferd::server {
namespace {

void respond_json(Exchange& ex, const Json& j) {
  (void)ex.respond(200, kJsonContentType, dump_json(j));
}

Json load_event_json(const LoadEvent& e) {
  Json j = {{"object", "model.load"}, {"stage", e.stage}, {"model", e.model}, {"bytes", e.bytes}};
  if (!e.message.empty()) j["message"] = e.message;
  return j;
}

// The registry and the id of the model the request's path names, or nothing (answered).
std::optional<std::string> model_of(const ApiContext& api, const Request& request, Exchange& ex) {
  ModelRegistry* registry = api.registry();
  if (!registry) {
    (void)respond_error(ex, overloaded_error("the server is starting; retry shortly", 5));
    return std::nullopt;
  }
  const std::string name(request.param("model").value_or(""));
  auto id = registry->resolve(name);
  if (!id) (void)respond_error(ex, model_not_found_error(name));
  return id;
}

Json status_json(ModelRegistry& registry, const std::string& id) {
  auto s = registry.status(id);
  return s ? openai::model_status_json(*s) : Json(nullptr);
}

}  // namespace

void handle_model_load(const ApiContext& api, const Request& request,
                       std::shared_ptr<Exchange> ex) {
  bool stream = false;
  if (!request.body.empty()) {
    auto body = parse_json_object(request.body);
    if (!body.ok()) return (void)respond_error(*ex, api_error_from_status(body.status()));
    if (Status st = FieldReader(*body, "").boolean("stream", &stream); !st.ok())
      return (void)respond_error(*ex, api_error_from_status(st));
  }
  const auto id = model_of(api, request, *ex);
  if (!id) return;
  ModelRegistry* registry = api.registry();
  if (!stream) {
    return registry->acquire(*id, [ex, registry, id = *id](Result<ModelLease> lease) {
      if (!lease.ok()) return (void)respond_error(*ex, model_acquire_error(id, lease.status()));
      lease->reset();  // the status below must not count this request as running
      respond_json(*ex, status_json(*registry, id));
    });
  }
  if (!ex->start_stream(200, sse_headers()).ok()) return;
  (void)ex->send(sse_data(dump_json(load_event_json({"requested", *id, 0, ""}))));
  registry->acquire(
      *id,
      [ex, registry, id = *id](Result<ModelLease> lease) {
        if (!lease.ok()) {
          (void)ex->send(sse_error(model_acquire_error(id, lease.status())));
          return (void)ex->finish();
        }
        lease->reset();
        (void)ex->send(sse_data(dump_json({{"object", "model.load"},
                                           {"stage", "done"},
                                           {"model", id},
                                           {"data", status_json(*registry, id)}})));
        (void)ex->send(std::string(kSseDone));
        (void)ex->finish();
      },
      [ex](const LoadEvent& e) { (void)ex->send(sse_data(dump_json(load_event_json(e)))); });
}

void handle_model_unload(const ApiContext& api, const Request& request,
                         std::shared_ptr<Exchange> ex) {
  const auto id = model_of(api, request, *ex);
  if (!id) return;
  ModelRegistry* registry = api.registry();
  if (Status st = registry->unload(*id); !st.ok()) {
    ApiError e = api_error_from_status(st);
    if (st.code() == StatusCode::kInvalidArgument) e.code = "model_not_loaded";
    if (st.code() == StatusCode::kUnsupported) e.code = "model_not_unloadable";
    return (void)respond_error(*ex, e);
  }
  respond_json(*ex, status_json(*registry, *id));
}

void handle_memory(const ApiContext& api, const Request&, std::shared_ptr<Exchange> ex) {
  ModelRegistry* registry = api.registry();
  if (!registry)
    return (void)respond_error(*ex, overloaded_error("the server is starting; retry shortly", 5));
  const uint64_t budget = registry->budget_bytes();
  const uint64_t used = registry->used_bytes();
  Json models = Json::array();
  for (const ModelStatus& s : registry->status()) {
    if (s.memory_bytes == 0 && s.state != ModelLoadState::kLoaded) continue;
    models.push_back({{"id", s.id},
                      {"state", model_load_state_name(s.state)},
                      {"memory_bytes", s.memory_bytes},
                      {"running", s.running},
                      {"pinned", s.pinned},
                      {"last_used", s.last_used_unix_ms > 0 ? Json(s.last_used_unix_ms / 1000)
                                                            : Json(nullptr)}});
  }
  respond_json(
      *ex, {{"object", "memory"},
            {"budget_bytes", budget > 0 ? Json(budget) : Json(nullptr)},
            {"used_bytes", used},
            {"free_bytes", budget > 0 ? Json(budget > used ? budget - used : 0) : Json(nullptr)},
            {"models", std::move(models)}});
}

}  // namespace inferd::server
