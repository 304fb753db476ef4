#include "server/registry/service_table.h"

namespace inferd::server {

Status ServiceTable::add(ServiceSpec spec) {
  if (spec.name.empty()) return invalid_argument("a service needs a name");
  if (find(spec.name)) return invalid_argument("service '{}' is defined twice", spec.name);
  services_.push_back(std::move(spec));
  return {};
}

const ServiceSpec* ServiceTable::find(std::string_view name) const {
  for (const ServiceSpec& s : services_)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace inferd::server
