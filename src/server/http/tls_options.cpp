#include "server/http/tls_options.h"

#include <utility>

namespace inferd::server {

std::optional<ClientCertMode> client_cert_mode_from_name(std::string_view name) {
  static constexpr std::pair<std::string_view, ClientCertMode> kModes[] = {
      {"none", ClientCertMode::kNone},
      {"optional", ClientCertMode::kOptional},
      {"required", ClientCertMode::kRequired}};
  for (const auto& [n, mode] : kModes)
    if (n == name) return mode;
  return std::nullopt;
}

}  // namespace inferd::server
