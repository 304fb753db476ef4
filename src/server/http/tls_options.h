// TlsOptions: the HTTPS settings of an HttpServer (HttpServerOptions::tls). TLS is on when
// `certificates` is not empty: the server's port then speaks only TLS (1.2 or 1.3), and
// redirect_port, when set, answers plain HTTP with a redirect to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inferd::server {

// Client certificates (mutual TLS):
//   kNone      none are asked for;
//   kOptional  asked for; a client may send none, but one it sends must verify against the CA;
//   kRequired  a client without a certificate that verifies fails the handshake.
enum class ClientCertMode : uint8_t { kNone, kOptional, kRequired };

// "none", "optional", "required"; nullopt for anything else.
std::optional<ClientCertMode> client_cert_mode_from_name(std::string_view name);

struct TlsCertificateFiles {
  std::string cert_file;  // PEM: the certificate, then its chain (intermediates), if any
  std::string key_file;   // PEM: its private key (unencrypted)
};

struct TlsOptions {
  // Chosen by SNI: a pair serves the DNS names of its certificate's subjectAltName ("*.a.com"
  // matches one label), or its subject CN when it has no DNS name. The first pair answers
  // clients that send no name or one no certificate serves.
  std::vector<TlsCertificateFiles> certificates;
  std::string client_ca_file;  // PEM CA certificates client certificates must chain to
  ClientCertMode client_certs = ClientCertMode::kNone;
  uint16_t redirect_port = 0;                // plain-HTTP port that only redirects; 0 = none
  int64_t hsts_max_age_s = 365 * 24 * 3600;  // Strict-Transport-Security max-age; 0 = none

  bool enabled() const { return !certificates.empty(); }
};

}  // namespace inferd::server
