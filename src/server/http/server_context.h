// ServerContext: what an HttpServer shares with its connections (internal to the transport).
// Connections hold it by shared_ptr; the options and router are read-only.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/router.h"

namespace inferd::server {

class Connection;

class ServerContext {
 public:
  ServerContext(HttpServerOptions options, Router router)
      : options_(std::move(options)), router_(std::move(router)) {}

  const HttpServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
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
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> open_;
  int64_t live_ = 0;  // Connection objects alive
};

}  // namespace inferd::server
