// A blocking HTTP/1.1 client for the CLI's calls to a running server (http://HOST:PORT only).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace inferd::cli {

struct HttpReply {
  int status = 0;
  std::string body;
};

class HttpClient {
 public:
  // Errors: a URL that is not http://HOST[:PORT].
  static Result<HttpClient> create(std::string_view server_url);

  // Sends the request and reads the whole answer. `on_body` (optional) sees the body as it
  // grows (for server-sent events). Errors: connection and protocol failures.
  Result<HttpReply> call(
      std::string_view method, const std::string& target, const std::string& body = "",
      const std::function<void(std::string_view body_so_far)>& on_body = nullptr) const;

 private:
  HttpClient(std::string host, std::string port) : host_(std::move(host)), port_(std::move(port)) {}
  std::string host_, port_;
};

}  // namespace inferd::cli
