#include <memory>
#include <mutex>
#include <string_view>

#include <curl/curl.h>

#include "server/auth/json_fetcher.h"

namespace inferd::server::auth {
namespace {

struct CurlFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

struct Body {
  std::string text;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t append_body(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<Body*>(user);
  const size_t num_bytes = size * count;
  if (body->text.size() + num_bytes > body->max_bytes) {
    body->too_large = true;
    return 0;  // aborts the transfer
  }
  body->text.append(data, num_bytes);
  return num_bytes;
}

Result<std::string> curl_get(const std::string& url, int timeout_ms, size_t max_body_bytes) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return internal_error("cannot create a libcurl handle");
  Body body;
  body.max_bytes = max_body_bytes;
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: safe on any thread
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_body_bytes));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "inferd");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  if (body.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    return io_error("GET {}: body over {} bytes", url, max_body_bytes);
  if (rc != CURLE_OK)
    return io_error("GET {}: {}", url, error[0] != '\0' ? error : curl_easy_strerror(rc));
  long http_status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http_status);
  if (http_status != 200) return io_error("GET {}: HTTP status {}", url, http_status);
  return std::move(body.text);
}

// The host of an absolute URL whose scheme ends at `host_begin`, without port or brackets.
std::string_view url_host(std::string_view url, size_t host_begin) {
  std::string_view authority = url.substr(host_begin);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

JsonFetcher curl_json_fetcher(int timeout_ms, size_t max_body_bytes) {
  return [timeout_ms, max_body_bytes](const std::string& url) {
    return curl_get(url, timeout_ms, max_body_bytes);
  };
}

Status check_fetch_url(std::string_view url, std::string_view what) {
  constexpr std::string_view kHttps = "https://";
  constexpr std::string_view kHttp = "http://";
  const bool https = url.substr(0, kHttps.size()) == kHttps;
  const bool http = url.substr(0, kHttp.size()) == kHttp;
  if (!https && !http) return invalid_argument("{} \"{}\" is not an http(s) URL", what, url);
  const size_t host_begin = https ? kHttps.size() : kHttp.size();
  const std::string_view authority =
      url.substr(host_begin, url.find_first_of("/?#", host_begin) - host_begin);
  if (authority.find('@') != std::string_view::npos)
    return invalid_argument("{} \"{}\" must not carry user info", what, url);
  const std::string_view host = url_host(url, host_begin);
  if (host.empty()) return invalid_argument("{} \"{}\" has no host", what, url);
  if (url.find_first_of(" \t\r\n") != std::string_view::npos)
    return invalid_argument("{} URL contains white space", what);
  if (http && host != "127.0.0.1" && host != "::1" && host != "localhost")
    return invalid_argument("{} \"{}\" must use https (http only to 127.0.0.1, [::1] or localhost)",
                            what, url);
  return Status::ok_status();
}

}  // namespace inferd::server::auth
