// HttpServer: the HTTP/1.1 transport of the OpenAI-compatible server (Boost.Beast on Boost.Asio).
//
// I/O threads accept connections and parse requests; a request is routed through the Router
// and handed to its handler with an Exchange (exchange.h) the handler answers through, at once or
// later from any thread. Every transport-level error is answered in the OpenAI error envelope
// (error_response.h) with Content-Type application/json:
//   400 malformed request or target (path traversal included), 404 unknown path, 405 known path
//   with another method (with Allow), 408 request read timed out, 413 body over max_body_bytes
//   (decided from Content-Length before the body is read), 431 header over max_header_bytes,
//   500 handler threw or dropped the exchange, 503 over max_connections (with Retry-After).
// Every response carries X-Request-Id and a W3C `traceparent` naming the server's span (the
// incoming traceparent's trace continues; a missing or invalid one starts a new trace).
// OPTIONS on a known path answers 204 with Allow unless a route handles OPTIONS itself.
// Every response, the transport's own included, carries X-Content-Type-Options: nosniff and
// X-Frame-Options: DENY, and over TLS Strict-Transport-Security (TlsOptions::hsts_max_age_s).
// CORS: see cors_policy.h; a preflight is answered by the transport and never reaches the
// authenticator or a handler.
//
// TLS (options.tls, see tls_options.h and tls_context.h): the port speaks only TLS; the handshake
// has header_timeout as its deadline; a client that fails it (plain HTTP included) is closed
// without an answer, and over max_connections a TLS client is closed without one too. Every
// deadline, cancel-on-disconnect and shutdown rule above holds over TLS as over plain TCP.
// Request::tls, tls_server_name and client_cert_subject tell handlers and the authenticator what
// the handshake established. reload_tls() swaps the certificates for new handshakes only.
// With TlsOptions::redirect_port, a plain-HTTP listener answers every request with 308 to the
// same host and target over https (https_redirect.h), 400 without a valid Host.
//
// Connections: HTTP/1.1 keep-alive (and HTTP/1.0 with "Connection: keep-alive"); "Connection:
// close" is honoured. A slow client cannot pin a connection: reading the header, reading the body,
// waiting idle between requests and each write have their own deadline. While a handler runs,
// the connection watches the socket, so a client that disconnects (EOF or reset) cancels its
// exchange at once.
//
// stop(): stops accepting, closes idle connections, lets requests in flight finish until
// shutdown_deadline, then cancels the rest (their on_cancel callbacks run) and closes them, then
// joins the I/O threads. It is idempotent and may be called from any thread; called from an I/O
// thread (a handler or a cancel callback) it only starts the shutdown, and the destructor or a
// later stop() on another thread completes it.
//
// Thread safety: start() and stop() may be called from any thread. The router is read-only once
// the server is constructed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/http/exchange_observer.h"
#include "server/http/router.h"
#include "server/http/tls_options.h"

namespace inferd::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // an IP address or a resolvable name
  uint16_t port = 0;               // 0: any free port; read it with HttpServer::port()
  int num_io_threads = 2;
  uint64_t max_body_bytes = 32ull << 20;             // over this: 413
  uint32_t max_header_bytes = 16u << 10;             // request line and fields; over this: 431
  std::chrono::milliseconds header_timeout{10'000};  // from the first byte to the end of the header
  std::chrono::milliseconds body_timeout{60'000};    // to read the whole body
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};   // each write of queued bytes
  std::chrono::milliseconds shutdown_deadline{10'000};  // stop(): in-flight requests get this long
  int max_connections = 1024;      // open connections; over this: 503 and close
  int overload_retry_after_s = 1;  // Retry-After of that 503
  // Unwritten bytes a streamed response may queue on one connection before the client counts as
  // too slow: the exchange is then cancelled and the connection closed.
  uint64_t max_stream_queue_bytes = 8ull << 20;
  int listen_backlog = 512;
  // Told about every request once it is answered or abandoned (optional).
  std::shared_ptr<ExchangeObserver> observer;
  // Says who each routed request comes from, or refuses it (optional; see caller.h).
  Authenticator authenticate;
  // Whether the observer gets the response body of a routed request (ExchangeRecord::
  // response_body), decided once the caller is known; unset: never.
  std::function<bool(const Request&)> capture_response_body;
  uint64_t max_captured_body_bytes = 1u << 20;
  // HTTPS on `port` when tls.certificates is not empty.
  TlsOptions tls;
  // Origins (e.g. "https://app.example.com", or "*") whose browser requests get CORS fields;
  // empty: none.
  std::vector<std::string> cors_allowed_origins;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Router router);
  // Stops the server (stop()). REQUIRES: not called on one of the server's I/O threads.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Errors: invalid options, an address that does not
  // resolve, a port in use (kIo, naming host, port and the system's reason), a second start(),
  // TLS files that cannot be read or do not fit (TlsContext::create's errors).
  Status start();
  void stop();

  // Re-reads every TLS file of options().tls. On success new handshakes use the new certificates
  // (connections already open keep theirs); on any error the old ones stay and the error is
  // returned. Errors also: TLS is not configured. Any thread.
  Status reload_tls();

  // The bound port once start() succeeded (the chosen one when options.port was 0), else 0.
  uint16_t port() const;
  // The bound redirect port (options.tls.redirect_port) once started; 0 without one.
  uint16_t redirect_port() const;
  const HttpServerOptions& options() const;
  // Connections open now (accepted and not yet closed), over-cap rejections excluded.
  size_t num_open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::server
