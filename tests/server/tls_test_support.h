// Test support for TLS: certificates made at test time with the openssl command line tool (a CA,
// server certificates with DNS subjectAltNames, client certificates signed by the CA or
// self-signed; P-256 keys, so making them is fast) and a blocking TLS client on 127.0.0.1 with
// SNI, an optional client certificate and protocol limits, whose every operation has a deadline.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "server/http_test_support.h"
#include "testing/test_paths.h"

namespace inferd::server::testing {

namespace ssl = boost::asio::ssl;
namespace fs = std::filesystem;

// Runs a shell command line; true when it exits with 0.
inline bool run_shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// Certificates and keys in the test's temporary directory.
class TestCertificates {
 public:
  TestCertificates() : dir_(inferd::testing::temp_dir() / "certs") { fs::create_directories(dir_); }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  std::string path(std::string_view name) const { return (dir_ / name).string(); }

  // <name>.pem, <name>.key: a CA.
  bool make_ca(const std::string& name, const std::string& subject) {
    return run_shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30"
        " -keyout " +
        path(name + ".key") + " -out " + path(name + ".pem") + " -subj '" + subject + "'");
  }
  // <name>.pem (the certificate, then the CA's when `with_chain`), <name>.key: signed by `ca`,
  // with the DNS subjectAltNames `dns_names` (none: no subjectAltName).
  bool make_signed(const std::string& name, const std::string& subject, const std::string& ca,
                   const std::vector<std::string>& dns_names, bool with_chain = false) {
    std::string ext = "basicConstraints=CA:FALSE\n";
    if (!dns_names.empty()) {
      ext += "subjectAltName=";
      for (size_t i = 0; i < dns_names.size(); ++i) ext += (i ? ",DNS:" : "DNS:") + dns_names[i];
      ext += "\n";
    }
    std::ofstream(path(name + ".ext")) << ext;
    if (!run_shell("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                   path(name + ".key") + " -out " + path(name + ".csr") + " -subj '" + subject +
                   "'"))
      return false;
    if (!run_shell("openssl x509 -req -days 30 -in " + path(name + ".csr") + " -CA " +
                   path(ca + ".pem") + " -CAkey " + path(ca + ".key") + " -CAcreateserial -out " +
                   path(name + ".pem") + " -extfile " + path(name + ".ext")))
      return false;
    if (with_chain) return run_shell("cat " + path(ca + ".pem") + " >> " + path(name + ".pem"));
    return true;
  }
  // <name>.pem, <name>.key: self-signed.
  bool make_self_signed(const std::string& name, const std::string& subject) {
    return make_ca(name, subject);
  }

 private:
  fs::path dir_;
};

struct TlsClientOptions {
  std::string server_name;  // SNI; empty: none
  std::string cert_file;    // client certificate; empty: none
  std::string key_file;
  int max_version = 0;        // e.g. TLS1_1_VERSION; 0: the library's
  std::string tls12_ciphers;  // empty: the library's
};

class TlsTestClient {
 public:
  TlsTestClient(uint16_t port, const TlsClientOptions& o) : ctx_(ssl::context::tls_client) {
    // The context is configured before the stream: a connection copies its settings when made.
    SSL_CTX* ctx = ctx_.native_handle();
    ctx_.set_verify_mode(ssl::verify_none);
    if (o.max_version != 0) {
      // Old protocols are below the default security level; allow them so that the refusal
      // comes from the server.
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_min_proto_version(ctx, 0);
      SSL_CTX_set_max_proto_version(ctx, o.max_version);
      SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
    }
    if (!o.tls12_ciphers.empty()) {
      SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
      SSL_CTX_set_cipher_list(ctx, o.tls12_ciphers.c_str());
    }
    if (!o.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    stream_.emplace(ioc_, ctx_);
    if (!o.server_name.empty())
      SSL_set_tlsext_host_name(stream_->native_handle(), o.server_name.c_str());
    boost::system::error_code ec;
    beast::get_lowest_layer(*stream_).socket().connect({net::ip::make_address("127.0.0.1"), port},
                                                       ec);
    if (ec) {
      handshake_error_ = ec;
      return;
    }
    handshake_error_ = run(5000ms, [&](auto handler) {
      stream_->async_handshake(ssl::stream_base::client,
                               [handler](boost::system::error_code e) mutable { handler(e, 0); });
    });
    // TLS 1.3 sends the verdict on the client certificate after the client's Finished: a
    // refusal shows on the first read.
  }

  bool handshake_ok() const { return !handshake_error_; }
  boost::system::error_code handshake_error() const { return handshake_error_; }

  // DNS names of the server's certificate.
  std::vector<std::string> peer_dns_names() {
    std::vector<std::string> names;
    X509* cert = SSL_get0_peer_certificate(stream_->native_handle());
    if (cert == nullptr) return names;
    auto* sans =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans == nullptr) return names;
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS)
        names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                           ASN1_STRING_length(n->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
    return names;
  }
  // The server certificate's subject, one line ("CN = a.test").
  std::string peer_subject() {
    X509* cert = SSL_get0_peer_certificate(stream_->native_handle());
    if (cert == nullptr) return "";
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
    return buf;
  }
  std::string protocol() { return SSL_get_version(stream_->native_handle()); }

  std::optional<Response> request(std::string_view method, std::string_view target,
                                  const HeaderList& headers = {}, std::string_view body = "",
                                  std::string_view host = "127.0.0.1") {
    std::string bytes = make_request(method, target, body, headers);
    if (host != "127.0.0.1") bytes.replace(bytes.find("127.0.0.1"), 9, host);
    if (run(5000ms, [&](auto handler) { net::async_write(*stream_, net::buffer(bytes), handler); }))
      return std::nullopt;
    ResponseParser parser;
    if (run(5000ms, [&](auto handler) { http::async_read(*stream_, buffer_, parser, handler); }))
      return std::nullopt;
    return parser.release();
  }

  boost::system::error_code last_error() const { return last_error_; }

 private:
  template <typename Start>
  boost::system::error_code run(Millis timeout, Start&& start) {
    boost::system::error_code result;
    bool done = false;
    beast::get_lowest_layer(*stream_).expires_after(timeout);
    start([&](boost::system::error_code ec, size_t) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    while (!done && ioc_.run_one() > 0) {
    }
    last_error_ = result;
    return result;
  }

  net::io_context ioc_;
  ssl::context ctx_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
  boost::system::error_code handshake_error_;
  boost::system::error_code last_error_;
};

}  // namespace inferd::server::testing
