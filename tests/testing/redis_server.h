// A private redis-server for tests of the Redis session store: started on 127.0.0.1 on a free
// port with no persistence, killed when the object goes. available() is false (and tests skip,
// naming the binary) when redis-server is not installed.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "testing/subprocess.h"
#include "testing/test_paths.h"

namespace inferd::testing {

class RedisServer {
 public:
  static std::string binary() {
    for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"})
      if (std::filesystem::exists(p)) return p;
    return {};
  }

  RedisServer() {
    const std::string bin = binary();
    if (bin.empty()) return;
    port_ = free_port();
    const auto dir = temp_dir();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{bin, "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", dir.string(),
                                 "--protected-mode", "no"},
        (dir / "redis.log").string());
    if (!process_->started()) return;
    // Ready once it accepts connections.
    for (int i = 0; i < 200 && !ready_; ++i) {
      boost::asio::io_context ioc;
      boost::asio::ip::tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      ready_ = !ec;
      if (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

  bool available() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string url(int db = 0) const {
    return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
  }
  std::string log() const { return process_ ? process_->log() : std::string(); }

 private:
  static uint16_t free_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
  }

  uint16_t port_ = 0;
  bool ready_ = false;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace inferd::testing

// Skips the current test when redis-server is missing or did not start.
#define INFERD_REQUIRE_REDIS(server)                                                 \
  if (!(server).available())                                                         \
  GTEST_SKIP() << (::inferd::testing::RedisServer::binary().empty()                  \
                       ? "redis-server not installed (apt-get install redis-server)" \
                       : "redis-server did not start: " + (server).log())
