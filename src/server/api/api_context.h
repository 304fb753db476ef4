// ApiContext: what the API handlers share: the served models and the API's own settings.
//
// The server answers before its models are loaded (GET /health says 503 "loading" meanwhile):
// publish() makes the models visible once, after which the context is read-only.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "server/http/error_response.h"
#include "server/served_model.h"
#include "server/sessions/session_service.h"
#include "server/telemetry/telemetry.h"

namespace inferd::server {

class ApiContext {
 public:
  // Where saved KV prefixes live (one subdirectory per model); empty = KV persistence is off.
  // Set before the server starts.
  std::string kv_dir;

  // Server-side conversations (the session endpoints and chat turns naming a session_id);
  // nullptr = sessions are off. Set before the server starts.
  std::shared_ptr<sessions::SessionService> sessions;

  // Metrics, traces and the access log of the server (a default without trace export until
  // set_telemetry()). Install it as the HttpServer's observer too.
  const std::shared_ptr<Telemetry>& telemetry() const { return telemetry_; }
  // Call before publish().
  void set_telemetry(std::shared_ptr<Telemetry> telemetry) { telemetry_ = std::move(telemetry); }

  // Makes `models` (the first is the default) visible to requests. Call once.
  void publish(std::vector<std::unique_ptr<ServedModel>> models) {
    for (auto& m : models) m->attach_telemetry(telemetry_);
    models_ = std::move(models);
    ready_.store(true, std::memory_order_release);
  }
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // Empty until publish().
  std::span<const std::unique_ptr<ServedModel>> models() const {
    if (!ready()) return {};
    return models_;
  }

  // The model a request names (empty = the default): 503 while loading, 404 model_not_found
  // when unknown.
  const ServedModel* find_model(std::string_view name, ApiError* error) const {
    const auto all = models();
    if (all.empty()) {
      *error = overloaded_error("the model is loading; retry shortly", 5);
      return nullptr;
    }
    if (name.empty()) return all.front().get();
    for (const auto& m : all)
      if (m->answers_to(name)) return m.get();
    *error = not_found_error("The model '" + std::string(name) + "' does not exist", "model_not_found");
    error->param = "model";
    return nullptr;
  }

 private:
  std::shared_ptr<Telemetry> telemetry_ = std::make_shared<Telemetry>();
  std::vector<std::unique_ptr<ServedModel>> models_;
  std::atomic<bool> ready_{false};
};

}  // namespace inferd::server
