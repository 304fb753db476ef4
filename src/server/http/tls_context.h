// TlsContext: the OpenSSL server context of an HttpServer's TLS listener, built from TlsOptions:
// every certificate/key pair loaded and checked, the certificate of each handshake chosen by the
// client's SNI name, TLS 1.2 minimum (TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305
// only; TLS 1.3: OpenSSL's AEAD suites), no compression, no renegotiation, client certificates
// verified per TlsOptions::client_certs.
//
// A context is immutable once created: reloading certificates creates a new one. Connections
// hold the context they were accepted with (shared_ptr), so replacing it never disturbs them.
// Thread safety: handshakes on any number of threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "base/status.h"
#include "server/http/tls_options.h"

namespace inferd::server {

class TlsContext {
 public:
  // Reads every file named by `options`. Errors (kIo for a file that cannot be read, else
  // kInvalidArgument) name the file: no certificate in it, a key that does not match its
  // certificate, an unusable client CA, client_certs without client_ca_file.
  static Result<std::shared_ptr<TlsContext>> create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& ssl_context() { return ssl_; }

  // The names each certificate serves, in the order of TlsOptions::certificates.
  std::vector<std::vector<std::string>> served_names() const;
  // Index of the certificate a handshake naming `server_name` gets (0 for an empty or unknown
  // name). Case-insensitive.
  size_t certificate_for(std::string_view server_name) const;

 private:
  struct Identity;
  TlsContext();
  static int select_certificate(SSL* ssl, void* arg);

  boost::asio::ssl::context ssl_;
  std::vector<Identity> identities_;
};

// What a completed handshake established, for Request::tls_server_name and
// Request::client_cert_subject.
struct TlsPeerInfo {
  std::string server_name;          // SNI name the client sent; empty: none
  std::string client_cert_subject;  // RFC 2253 subject of a verified client certificate
};
TlsPeerInfo tls_peer_info(SSL* ssl);

}  // namespace inferd::server
