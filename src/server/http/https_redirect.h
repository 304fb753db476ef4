// The Location of the plain-HTTP listener's redirect (TlsOptions::redirect_port): the same host
// and target over https on the TLS port. The host comes only from the request's own Host field
// (never from an absolute-form target), so the redirect cannot lead to another host.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace inferd::server {

// "https://<host>[:<https_port> unless 443]<target>" for Host `host` (its port dropped).
// Errors (kInvalidArgument): no Host, a Host that is not a DNS name, IPv4 address or bracketed
// IPv6 address with an optional numeric port, a target that is not origin-form ("/...").
Result<std::string> https_redirect_location(std::optional<std::string_view> host,
                                            std::string_view target, uint16_t https_port);

}  // namespace inferd::server
