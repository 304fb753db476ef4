// JsonFetcher: gets the body of a JSON document (OIDC discovery, JWKS) by URL. Injectable so that
// tests can serve documents without a network; the default is curl_json_fetcher().
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "base/status.h"

namespace inferd::server::auth {

// Returns the body of a 200 answer to GET `url`, or an error (kIo for transport failures and
// other statuses). Must be callable from several threads at once.
using JsonFetcher = std::function<Result<std::string>(const std::string& url)>;

// A fetcher on libcurl: http and https only, no redirects, peer and host verification on for
// https (the system's CA store), the whole request bounded by `timeout_ms`, bodies over
// `max_body_bytes` refused. It does not enforce check_fetch_url(); its callers do.
JsonFetcher curl_json_fetcher(int timeout_ms, size_t max_body_bytes);

// The URL policy for issuer and JWKS URLs: https to any host, http only to a loopback host
// (127.0.0.1, [::1], localhost: a local identity provider or a test), never user info in the URL.
// Errors are kInvalidArgument naming `what` ("issuer", "jwks_uri").
Status check_fetch_url(std::string_view url, std::string_view what);

}  // namespace inferd::server::auth
