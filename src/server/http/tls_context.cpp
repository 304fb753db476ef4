#include "server/http/tls_context.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace inferd::server {
namespace {

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr unsigned char kSessionIdContext[] = "inferd";

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

// The reason of OpenSSL's last error (and clears its queue).
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  std::string out = e != 0
                        ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "unknown error"
                        : "no detail";
  ERR_clear_error();
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

Result<BioPtr> open_file(const std::string& path, std::string_view what) {
  if (path.empty()) return invalid_argument("tls: no {} file given", what);
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return io_error("tls: cannot read the {} file {}: {}", what, path, std::strerror(errno));
  }
  return bio;
}

// The DNS names of the certificate's subjectAltName, or its subject CN when it has none.
std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
      if (name->type != GEN_DNS) continue;
      const ASN1_STRING* dns = name->d.dNSName;
      names.push_back(to_lower(std::string_view(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), ASN1_STRING_length(dns))));
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(cert);
  const int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    names.push_back(to_lower(std::string_view(
        reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), ASN1_STRING_length(cn))));
  }
  return names;
}

// "*.example.com" matches "a.example.com", not "example.com" nor "a.b.example.com".
bool name_matches(std::string_view pattern, std::string_view name) {
  if (!pattern.starts_with("*.")) return pattern == name;
  const size_t dot = name.find('.');
  return dot != std::string_view::npos && dot > 0 && name.substr(dot) == pattern.substr(1);
}

}  // namespace

struct TlsContext::Identity {
  X509Ptr cert;
  KeyPtr key;
  ChainPtr chain;
  std::vector<std::string> names;  // lower case
};

TlsContext::TlsContext() : ssl_(boost::asio::ssl::context::tls_server) {}
TlsContext::~TlsContext() = default;

Result<std::shared_ptr<TlsContext>> TlsContext::create(const TlsOptions& options) {
  if (options.certificates.empty()) return invalid_argument("tls: no certificate given");
  std::shared_ptr<TlsContext> context(new TlsContext());
  for (const TlsCertificateFiles& files : options.certificates) {
    Identity id;
    INFERD_ASSIGN_OR_RETURN(BioPtr cert_bio, open_file(files.cert_file, "certificate"));
    id.cert.reset(PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr));
    if (!id.cert) {
      return invalid_argument("tls: no PEM certificate in {}: {}", files.cert_file,
                              openssl_reason());
    }
    id.chain.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(id.chain.get(), extra);
    }
    ERR_clear_error();  // the end of the file reads as "no start line"
    INFERD_ASSIGN_OR_RETURN(BioPtr key_bio, open_file(files.key_file, "key"));
    id.key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (!id.key) {
      return invalid_argument("tls: no unencrypted PEM private key in {}: {}", files.key_file,
                              openssl_reason());
    }
    if (X509_check_private_key(id.cert.get(), id.key.get()) != 1) {
      ERR_clear_error();
      return invalid_argument("tls: the key in {} does not match the certificate in {}",
                              files.key_file, files.cert_file);
    }
    id.names = certificate_names(id.cert.get());
    context->identities_.push_back(std::move(id));
  }

  SSL_CTX* ctx = context->ssl_.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return internal_error("tls: cannot set the cipher list: {}", openssl_reason());
  }
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  SSL_CTX_set_cert_cb(ctx, &TlsContext::select_certificate, context.get());

  if (options.client_certs != ClientCertMode::kNone) {
    const std::string& ca = options.client_ca_file;
    if (ca.empty()) return invalid_argument("tls: client certificates need a client CA file");
    INFERD_ASSIGN_OR_RETURN(BioPtr ca_bio, open_file(ca, "client CA"));  // readable: clear error
    if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
      return invalid_argument("tls: no usable CA certificate in {}: {}", ca, openssl_reason());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (names == nullptr) {
      return invalid_argument("tls: no CA certificate in {}: {}", ca, openssl_reason());
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    int mode = SSL_VERIFY_PEER;
    if (options.client_certs == ClientCertMode::kRequired) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

std::vector<std::vector<std::string>> TlsContext::served_names() const {
  std::vector<std::vector<std::string>> out;
  for (const Identity& id : identities_) out.push_back(id.names);
  return out;
}

size_t TlsContext::certificate_for(std::string_view server_name) const {
  if (server_name.empty()) return 0;
  const std::string name = to_lower(server_name);
  // Exact names first, so "api.a.com" on one certificate wins over "*.a.com" on another.
  for (size_t i = 0; i < identities_.size(); ++i)
    for (const std::string& n : identities_[i].names)
      if (n == name) return i;
  for (size_t i = 0; i < identities_.size(); ++i)
    for (const std::string& n : identities_[i].names)
      if (n.starts_with("*.") && name_matches(n, name)) return i;
  return 0;
}

// OpenSSL's certificate callback: runs in each handshake after the ClientHello is read (SNI
// known) and before the cipher is chosen.
int TlsContext::select_certificate(SSL* ssl, void* arg) {
  const auto* self = static_cast<const TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const Identity& id = self->identities_[self->certificate_for(name ? name : "")];
  return SSL_use_cert_and_key(ssl, id.cert.get(), id.key.get(), id.chain.get(), 1) == 1 ? 1 : 0;
}

TlsPeerInfo tls_peer_info(SSL* ssl) {
  TlsPeerInfo info;
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name))
    info.server_name = name;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer != nullptr && SSL_get_verify_result(ssl) == X509_V_OK) {
    BioPtr out(BIO_new(BIO_s_mem()));
    if (out &&
        X509_NAME_print_ex(out.get(), X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(out.get(), &data);
      if (n > 0) info.client_cert_subject.assign(data, static_cast<size_t>(n));
    }
  }
  return info;
}

}  // namespace inferd::server
