// `inferd serve` over HTTPS as a process: --tls-cert/--tls-key, the redirect port, and SIGHUP
// reloading the certificate files (a broken file keeps the previous certificate).
#include <csignal>
#include <thread>

#include <gtest/gtest.h>

#include "server/tls_test_support.h"
#include "testing/subprocess.h"

namespace inferd::server::testing {
namespace {

uint16_t free_port() {
  net::io_context ioc;
  net::ip::tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// The subject of the certificate a new connection for `name` gets once it is `want` (polled for
// a few seconds: a signal is handled asynchronously); the last one seen otherwise.
std::string wait_for_subject(uint16_t port, const std::string& want) {
  std::string seen;
  for (int i = 0; i < 100; ++i) {
    TlsClientOptions o;
    o.server_name = "a.test";
    TlsTestClient c(port, o);
    if (c.handshake_ok()) seen = c.peer_subject();
    if (seen == want) break;
    std::this_thread::sleep_for(50ms);
  }
  return seen;
}

TEST(ServeTlsTest, ServesHttpsRedirectsAndReloadsOnSighup) {
  TestCertificates certs;
  ASSERT_TRUE(certs.make_ca("ca", "/CN=inferd test CA")) << "the openssl tool is needed";
  ASSERT_TRUE(certs.make_signed("a", "/CN=a.test", "ca", {"a.test"}));
  ASSERT_TRUE(certs.make_signed("a2", "/CN=a.test renewed", "ca", {"a.test"}));
  const uint16_t port = free_port();
  const uint16_t redirect_port = free_port();
  inferd::testing::ChildProcess server(
      {inferd::testing::inferd_binary(), "serve", "--port", std::to_string(port), "--threads", "1",
       "--no-sessions", "--tls-cert", certs.path("a.pem"), "--tls-key", certs.path("a.key"),
       "--tls-redirect-port", std::to_string(redirect_port)},
      (inferd::testing::temp_dir() / "serve-tls.log").string());
  ASSERT_TRUE(server.started());
  int status = 0;
  for (int i = 0; i < 200 && status == 0; ++i) {
    TlsClientOptions o;
    o.server_name = "a.test";
    TlsTestClient c(port, o);
    if (c.handshake_ok()) {
      auto res = c.request("GET", "/health");
      if (res) status = res->result_int();
    }
    if (status == 0) std::this_thread::sleep_for(50ms);
  }
  ASSERT_NE(status, 0) << server.log();
  EXPECT_NE(server.log().find("listening on https://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << server.log();

  TestClient plain(redirect_port);
  auto res = plain.request("GET", "/v1/models", "", {});
  ASSERT_TRUE(res) << server.log();
  EXPECT_EQ(res->result_int(), 308);
  EXPECT_EQ(field(*res, "Location"), "https://127.0.0.1:" + std::to_string(port) + "/v1/models");

  // A keep-alive connection opened before the reload.
  TlsClientOptions o;
  o.server_name = "a.test";
  TlsTestClient before(port, o);
  ASSERT_TRUE(before.handshake_ok());

  fs::copy_file(certs.path("a2.pem"), certs.path("a.pem"), fs::copy_options::overwrite_existing);
  fs::copy_file(certs.path("a2.key"), certs.path("a.key"), fs::copy_options::overwrite_existing);
  server.signal(SIGHUP);
  EXPECT_EQ(wait_for_subject(port, "/CN=a.test renewed"), "/CN=a.test renewed") << server.log();
  EXPECT_NE(server.log().find("TLS certificates reloaded"), std::string::npos) << server.log();
  res = before.request("GET", "/health");
  ASSERT_TRUE(res);
  EXPECT_NE(res->result_int(), 0);

  std::ofstream(certs.path("a.key")) << "broken\n";
  server.signal(SIGHUP);
  for (int i = 0; i < 100 && server.log().find("not reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_NE(server.log().find("not reloaded"), std::string::npos) << server.log();
  EXPECT_EQ(wait_for_subject(port, "/CN=a.test renewed"), "/CN=a.test renewed");

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(15000), 0) << server.log();
}

}  // namespace
}  // namespace inferd::server::testing
