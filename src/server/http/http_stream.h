// HttpStream: the byte stream of one Connection: a plain TCP socket, or TLS over one. It models
// Asio's AsyncReadStream and AsyncWriteStream, so Beast's parsers and asio::async_write use it as
// they would a socket; the plain path costs one branch per operation.
//
// Thread safety: as a socket: all operations on the connection's strand. Like asio::ssl::stream,
// one read and one write may be outstanding at once.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "server/http/tls_context.h"

namespace inferd::server {

class HttpStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using executor_type = Socket::executor_type;

  // `tls` null: plain TCP. Otherwise TLS with that context, kept alive as long as the stream.
  HttpStream(Socket socket, std::shared_ptr<TlsContext> tls) : tls_context_(std::move(tls)) {
    if (tls_context_) {
      tls_.emplace(std::move(socket), tls_context_->ssl_context());
    } else {
      plain_.emplace(std::move(socket));
    }
  }
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  bool is_tls() const { return tls_.has_value(); }
  // The TCP socket (under TLS: the one TLS runs on) for options, shutdown and close.
  Socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  executor_type get_executor() { return socket().get_executor(); }
  // REQUIRES: is_tls().
  SSL* native_handle() { return tls_->native_handle(); }

  // The server side of the TLS handshake. REQUIRES: is_tls().
  template <class Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(boost::asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      tls_->async_write_some(buffers, std::forward<Handler>(handler));
    } else {
      plain_->async_write_some(buffers, std::forward<Handler>(handler));
    }
  }

 private:
  const std::shared_ptr<TlsContext> tls_context_;  // declared first: outlives tls_
  std::optional<Socket> plain_;
  std::optional<boost::asio::ssl::stream<Socket>> tls_;
};

}  // namespace inferd::server
