// ServiceTable: the services a server answers for (the internal products that call it), each
// with a default model, the models it may use and a priority. A request's service is its
// caller's (Request::caller.service, set by the authenticator).
//
// Thread safety: immutable after the add()s; then safe to read from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace inferd::server {

struct ServiceSpec {
  std::string name;
  std::string default_model;                // id or alias; empty = the server's default
  std::vector<std::string> allowed_models;  // ids or aliases; empty = every model
  int64_t priority = 0;  // added to the engine priority of the service's requests (higher first)
  std::string key_prefix;  // prefix of the service's new API keys (e.g. "vista_"); empty = "inferd_"
  // Limits on the whole service (every key together); 0 = none.
  int64_t requests_per_minute = 0, tokens_per_minute = 0, concurrent = 0;
};

class ServiceTable {
 public:
  // Errors: an empty or duplicate name.
  Status add(ServiceSpec spec);
  // The service called `name`, or null (anonymous callers and unconfigured services).
  const ServiceSpec* find(std::string_view name) const;
  const std::vector<ServiceSpec>& services() const { return services_; }

 private:
  std::vector<ServiceSpec> services_;
};

}  // namespace inferd::server
