#include "server/auth/jwt.h"

#include "server/auth/base64url.h"

namespace inferd::server::auth {
namespace {

Result<nlohmann::json> decode_object(std::string_view part, const char* what) {
  auto bytes = base64url_decode(part);
  if (!bytes.ok()) return bytes.status().with_context(fmt::format("token {}", what));
  auto json = nlohmann::json::parse(bytes.value(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return invalid_argument("token {} is not valid JSON", what);
  if (!json.is_object()) return invalid_argument("token {} is not a JSON object", what);
  return json;
}

}  // namespace

bool looks_like_jwt(std::string_view token) {
  int num_dots = 0;
  char prev = '.';
  for (const char c : token) {
    const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_';
    if (c == '.') {
      if (prev == '.') return false;
      ++num_dots;
    } else if (!b64) {
      return false;
    }
    prev = c;
  }
  return num_dots == 2 && prev != '.';
}

Result<Jwt> parse_jwt(std::string_view compact) {
  if (compact.size() > kMaxJwtBytes)
    return invalid_argument("token is {} bytes, over the limit of {}", compact.size(),
                            kMaxJwtBytes);
  const size_t dot1 = compact.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : compact.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || compact.find('.', dot2 + 1) != std::string_view::npos)
    return invalid_argument("token is not a compact JWS (three parts separated by '.')");
  const std::string_view header_part = compact.substr(0, dot1);
  const std::string_view payload_part = compact.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = compact.substr(dot2 + 1);
  if (header_part.empty() || payload_part.empty() || signature_part.empty())
    return invalid_argument("token has an empty header, payload or signature");

  Jwt jwt;
  INFERD_ASSIGN_OR_RETURN(jwt.header, decode_object(header_part, "header"));
  INFERD_ASSIGN_OR_RETURN(jwt.payload, decode_object(payload_part, "payload"));
  auto signature = base64url_decode(signature_part);
  if (!signature.ok()) return signature.status().with_context("token signature");
  jwt.signature = std::move(signature).value();

  const auto alg = jwt.header.find("alg");
  if (alg == jwt.header.end() || !alg->is_string())
    return invalid_argument("token header has no \"alg\" string");
  jwt.alg = alg->get<std::string>();
  if (const auto kid = jwt.header.find("kid"); kid != jwt.header.end()) {
    if (!kid->is_string()) return invalid_argument("token header \"kid\" is not a string");
    jwt.kid = kid->get<std::string>();
  }
  if (jwt.header.contains("crit"))
    return invalid_argument("token header has \"crit\" extensions, none of which are understood");
  jwt.signing_input = std::string(compact.substr(0, dot2));
  return jwt;
}

}  // namespace inferd::server::auth
