// Plain HTTP/1.1 requests to a server on 127.0.0.1, for tests of `inferd serve` processes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferd::testing {

// A port no one listens on now (the OS's choice; another process could take it meanwhile).
uint16_t free_port();

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection refused, reset or timed out)
  std::string text;     // the body
  nlohmann::json body;  // the body parsed, discarded when it is not JSON
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(const std::string& name) const;  // case-insensitive; "" when absent
};

// One request on a fresh connection; `body` is sent as JSON unless null.
HttpAnswer http_request(uint16_t port, const std::string& method, const std::string& target,
                        const nlohmann::json& body = nullptr,
                        const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace inferd::testing
