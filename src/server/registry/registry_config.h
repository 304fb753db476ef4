// RegistryConfig: the models, services and memory budget a server starts its registry with.
#pragma once

#include <string>
#include <vector>

#include "server/registry/model_registry.h"
#include "server/registry/model_spec.h"
#include "server/registry/service_table.h"

namespace inferd::server {

struct RegistryConfig {
  RegistryOptions options;
  std::vector<ModelSpec> models;
  ServiceTable services;
  std::string default_model;  // id or alias; empty = the first model
};

}  // namespace inferd::server
