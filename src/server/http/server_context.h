// ServerContext: what an HttpServer shares with its connections (internal to the transport).
// Connections hold it by shared_ptr; the options, router, CORS policy and security fields are
// read-only; the TLS context is replaced by reload (under a lock).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/http/cors_policy.h"
#include "server/http/http_server.h"
#include "server/http/router.h"
#include "server/http/tls_context.h"

namespace inferd::server {

class Connection;

class ServerContext {
 public:
  ServerContext(HttpServerOptions options, Router router)
      : options_(std::move(options)),
        router_(std::move(router)),
        cors_(options_.cors_allowed_origins),
        plain_security_fields_("X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"),
        tls_security_fields_(plain_security_fields_ +
                             (options_.tls.hsts_max_age_s > 0
                                  ? "Strict-Transport-Security: max-age=" +
                                        std::to_string(options_.tls.hsts_max_age_s) + "\r\n"
                                  : std::string())) {}

  const HttpServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  const CorsPolicy& cors() const { return cors_; }
  // The header lines every response carries, over TLS or plain TCP.
  std::string_view security_fields(bool tls) const {
    return tls ? tls_security_fields_ : plain_security_fields_;
  }

  // The certificates new TLS handshakes use; null without TLS.
  std::shared_ptr<TlsContext> tls_context() const {
    std::lock_guard<std::mutex> lock(tls_mu_);
    return tls_context_;
  }
  void set_tls_context(std::shared_ptr<TlsContext> context) {
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls_context_ = std::move(context);
  }
  // The bound TLS port, which redirects name; set before the redirect listener accepts.
  uint16_t https_port() const { return https_port_.load(std::memory_order_acquire); }
  void set_https_port(uint16_t port) { https_port_.store(port, std::memory_order_release); }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }

  // Adds an open connection; false once stopping (the caller closes the socket).
  bool register_connection(uint64_t id, const std::shared_ptr<Connection>& connection) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping()) return false;
    open_[id] = connection;
    return true;
  }
  void unregister_connection(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (open_.erase(id) > 0 && open_.empty()) cv_.notify_all();
  }
  size_t num_open() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_.size();
  }

  // Marks the server stopping and returns the connections open at that moment; no connection
  // registers afterwards.
  std::vector<std::shared_ptr<Connection>> begin_stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true, std::memory_order_release);
    return snapshot_locked();
  }
  std::vector<std::shared_ptr<Connection>> snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return snapshot_locked();
  }
  // True when no connection is open by `deadline`.
  bool wait_until_closed(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [this] { return open_.empty(); });
  }

  std::atomic<int> num_rejecting{0};  // over-cap connections being answered 503

  // Counts a Connection object from construction to the end of its destruction (a member of
  // it). Exchanges kept by handlers may hold a connection past its closing, on any thread.
  class LiveConnection {
   public:
    explicit LiveConnection(const std::shared_ptr<ServerContext>& context) : context_(context.get()) {
      std::lock_guard<std::mutex> lock(context_->mu_);
      ++context_->live_;
    }
    ~LiveConnection() {
      std::lock_guard<std::mutex> lock(context_->mu_);
      if (--context_->live_ == 0) context_->cv_.notify_all();
    }
    LiveConnection(const LiveConnection&) = delete;
    LiveConnection& operator=(const LiveConnection&) = delete;

   private:
    ServerContext* context_;  // outlives the connection (which holds it)
  };
  // True when no Connection object exists by `deadline`.
  bool wait_until_destroyed(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, deadline, [this] { return live_ == 0; });
  }

 private:
  std::vector<std::shared_ptr<Connection>> snapshot_locked() const {
    std::vector<std::shared_ptr<Connection>> out;
    out.reserve(open_.size());
    for (const auto& [id, weak] : open_) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }

  const HttpServerOptions options_;
  const Router router_;
  const CorsPolicy cors_;
  const std::string plain_security_fields_;
  const std::string tls_security_fields_;
  mutable std::mutex tls_mu_;
  std::shared_ptr<TlsContext> tls_context_;
  std::atomic<uint16_t> https_port_{0};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> open_;
  int64_t live_ = 0;  // Connection objects alive
};

}  // namespace inferd::server
