#include "http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace inferd::cli {

namespace net = boost::asio;
namespace http = boost::beast::http;

Result<HttpClient> HttpClient::create(std::string_view url) {
  std::string rest(url);
  if (rest.rfind("http://", 0) == 0)
    rest = rest.substr(7);
  else if (rest.find("://") != std::string::npos)
    return invalid_argument("'{}': only http:// servers are supported", url);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (host.empty() || port.empty() || rest.find('/') != std::string::npos)
    return invalid_argument("'{}' is not http://HOST:PORT", url);
  return HttpClient(std::move(host), std::move(port));
}

Result<HttpReply> HttpClient::call(std::string_view method, const std::string& target,
                                   const std::string& body,
                                   const std::function<void(std::string_view)>& on_body) const {
  try {
    net::io_context ioc;
    boost::beast::tcp_stream stream(ioc);
    stream.connect(net::ip::tcp::resolver(ioc).resolve(host_, port_));
    http::request<http::string_body> req{
        http::string_to_verb(boost::beast::string_view(method.data(), method.size())), target, 11};
    req.set(http::field::host, host_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read_header(stream, buffer, parser);
    while (!parser.is_done()) {
      http::read_some(stream, buffer, parser);
      if (on_body) on_body(parser.get().body());
    }
    return HttpReply{static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return io_error("http://{}:{}{}: {}", host_, port_, target, e.what());
  }
}

}  // namespace inferd::cli
