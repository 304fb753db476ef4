#include "testing/http_request.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/algorithm/string/predicate.hpp>

namespace inferd::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;

uint16_t free_port() {
  net::io_context ioc;
  net::ip::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string HttpAnswer::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (boost::iequals(k, name)) return v;
  return "";
}

HttpAnswer http_request(uint16_t port, const std::string& method, const std::string& target,
                        const nlohmann::json& body,
                        const std::vector<std::pair<std::string, std::string>>& headers) {
  net::io_context ioc;
  boost::beast::tcp_stream s(ioc);
  boost::system::error_code ec;
  s.socket().connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  s.expires_after(std::chrono::seconds(60));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.is_null()) req.body() = body.dump();
  req.prepare_payload();
  http::write(s, req, ec);
  if (ec) return {};
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res, ec);
  if (ec) return {};
  HttpAnswer a;
  a.status = static_cast<int>(res.result_int());
  a.text = res.body();
  a.body = nlohmann::json::parse(a.text, nullptr, false);
  for (const auto& f : res) a.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return a;
}

}  // namespace inferd::testing
