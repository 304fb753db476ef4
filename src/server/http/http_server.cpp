#include "server/http/http_server.h"

#include <array>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "base/check.h"
#include "base/log.h"
#include "server/http/connection.h"
#include "server/http/error_response.h"
#include "server/http/request_id.h"
#include "server/http/response_head.h"
#include "server/http/server_context.h"

namespace inferd::server {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

namespace {

// How long stop() waits, after cancelling what is left at the deadline, for the connections to
// close before it stops the I/O threads anyway.
constexpr std::chrono::milliseconds kForceCloseGrace{2000};
// An over-cap connection gets this long to read its 503.
constexpr std::chrono::milliseconds kRejectTimeout{1000};
// Pause before accepting again after the process ran out of file descriptors.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// The server whose I/O thread this is, if any.
thread_local const void* tls_io_server = nullptr;

// Answers an over-cap connection with 503 and closes it once the client has read the answer
// (or kRejectTimeout passed). Holds itself alive through its pending operations.
class Rejection : public std::enable_shared_from_this<Rejection> {
 public:
  Rejection(std::shared_ptr<ServerContext> context, tcp::socket socket)
      : context_(std::move(context)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    context_->num_rejecting.fetch_add(1);
  }
  ~Rejection() { context_->num_rejecting.fetch_sub(1); }

  void start() {
    const ApiError error = overloaded_error("The server is at its connection limit, retry later.",
                                            context_->options().overload_retry_after_s);
    const std::string body = error_json(error);
    const HeaderList headers = error_headers(error);
    const std::string request_id = new_request_id();
    ResponseHead head;
    head.status = 503;
    head.content_type = kJsonContentType;
    head.headers = &headers;
    head.request_id = request_id;
    head.security_fields = context_->security_fields(false);
    head.content_length = body.size();
    head.keep_alive = false;
    response_ = format_response_head(head) + body;

    timer_.expires_after(kRejectTimeout);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->finish();
    });
    net::async_write(socket_, net::buffer(response_),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) {
                         self->finish();
                         return;
                       }
                       error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                       self->drain();
                     });
  }

 private:
  void drain() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this()](error_code ec, size_t) {
                              if (ec) {
                                self->finish();
                              } else {
                                self->drain();
                              }
                            });
  }
  void finish() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  const std::shared_ptr<ServerContext> context_;
  tcp::socket socket_;
  net::steady_timer timer_;
  std::string response_;
  std::array<char, 4096> scratch_{};
};

Status validate(const HttpServerOptions& o) {
  if (o.num_io_threads < 1 || o.num_io_threads > 1024) {
    return invalid_argument("http server: num_io_threads {} out of range [1, 1024]",
                            o.num_io_threads);
  }
  if (o.max_connections < 1) return invalid_argument("http server: max_connections must be >= 1");
  if (o.max_header_bytes < 1024) {
    return invalid_argument("http server: max_header_bytes must be >= 1024");
  }
  if (o.max_stream_queue_bytes < 1024) {
    return invalid_argument("http server: max_stream_queue_bytes must be >= 1024");
  }
  using std::chrono::milliseconds;
  for (milliseconds t : {o.header_timeout, o.body_timeout, o.idle_timeout, o.write_timeout}) {
    if (t <= milliseconds(0)) return invalid_argument("http server: timeouts must be positive");
  }
  if (o.shutdown_deadline < milliseconds(0)) {
    return invalid_argument("http server: shutdown_deadline must not be negative");
  }
  if (o.listen_backlog < 1) return invalid_argument("http server: listen_backlog must be >= 1");
  if (o.tls.redirect_port != 0 && !o.tls.enabled()) {
    return invalid_argument("http server: a redirect port needs TLS (a certificate)");
  }
  if (o.tls.redirect_port != 0 && o.tls.redirect_port == o.port) {
    return invalid_argument("http server: the redirect port must differ from the TLS port");
  }
  if (o.tls.hsts_max_age_s < 0) {
    return invalid_argument("http server: hsts_max_age_s must not be negative");
  }
  return Status::ok_status();
}

}  // namespace

// One listening socket: the API port (plain or TLS) or the redirect port.
struct Listener {
  Listener(net::io_context& ioc, ConnectionRole role, bool tls)
      : acceptor(net::make_strand(ioc)),
        retry_timer(acceptor.get_executor()),
        role(role),
        tls(tls) {}

  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  const ConnectionRole role;
  const bool tls;
  uint16_t port = 0;  // bound
};

struct HttpServer::Impl {
  enum class State { kNew, kRunning, kStopping, kStopped };

  Impl(HttpServerOptions options, Router router)
      : ioc(std::max(1, options.num_io_threads)),
        context(std::make_shared<ServerContext>(std::move(options), std::move(router))),
        deadline_timer(net::make_strand(ioc)) {}

  bool on_io_thread() const { return tls_io_server == this; }

  Status start() {
    std::lock_guard<std::mutex> lock(state_mu);
    if (state != State::kNew) return invalid_argument("http server: start() called twice");
    const HttpServerOptions& o = context->options();
    INFERD_RETURN_IF_ERROR(validate(o));

    error_code ec;
    tcp::endpoint endpoint;
    const auto address = net::ip::make_address(o.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, o.port);
    } else {
      tcp::resolver resolver(ioc);
      const auto results =
          resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
      if (ec || results.empty()) {
        return not_found("http server: cannot resolve host '{}': {}", o.host,
                         ec ? ec.message() : "no address");
      }
      endpoint = results.begin()->endpoint();
    }

    if (o.tls.enabled()) {
      INFERD_ASSIGN_OR_RETURN(auto tls, TlsContext::create(o.tls));
      context->set_tls_context(std::move(tls));
    }
    listeners.push_back(std::make_unique<Listener>(ioc, ConnectionRole::kApi, o.tls.enabled()));
    if (Status st = open_listener(*listeners.back(), endpoint, o.port); !st.ok()) {
      close_listeners();
      return st;
    }
    bound_port = listeners.back()->port;
    context->set_https_port(bound_port);
    if (o.tls.redirect_port != 0) {
      listeners.push_back(std::make_unique<Listener>(ioc, ConnectionRole::kRedirect, false));
      if (Status st = open_listener(*listeners.back(), endpoint, o.tls.redirect_port); !st.ok()) {
        close_listeners();
        return st;
      }
    }

    work.emplace(net::make_work_guard(ioc));
    for (const auto& l : listeners) {
      net::post(l->acceptor.get_executor(), [this, l = l.get()] { do_accept(*l); });
    }
    threads.reserve(o.num_io_threads);
    for (int i = 0; i < o.num_io_threads; ++i) {
      threads.emplace_back([this] { run_io_thread(); });
    }
    state = State::kRunning;
    spdlog::info("http: listening on {}://{}:{} ({} I/O threads)",
                 o.tls.enabled() ? "https" : "http", o.host, bound_port, o.num_io_threads);
    if (listeners.size() > 1) {
      spdlog::info("http: redirecting http://{}:{} to https", o.host, listeners[1]->port);
    }
    return Status::ok_status();
  }

  // Binds and listens on `endpoint` with `port`. Errors name the host, port and reason.
  Status open_listener(Listener& l, tcp::endpoint endpoint, uint16_t port) {
    const HttpServerOptions& o = context->options();
    endpoint.port(port);
    error_code ec;
    auto fail = [&](const char* step) {
      const Status st =
          io_error("http server: cannot {} {}:{}: {}", step, o.host, port, ec.message());
      error_code ignored;
      l.acceptor.close(ignored);
      return st;
    };
    l.acceptor.open(endpoint.protocol(), ec);
    if (ec) return fail("open a socket for");
    l.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (ec) return fail("configure");
    l.acceptor.bind(endpoint, ec);
    if (ec) return fail("listen on");
    l.acceptor.listen(o.listen_backlog, ec);
    if (ec) return fail("listen on");
    l.port = l.acceptor.local_endpoint(ec).port();
    if (ec) return fail("read the bound port of");
    return Status::ok_status();
  }

  // Before the I/O threads run (a failed start()).
  void close_listeners() {
    for (const auto& l : listeners) {
      error_code ignored;
      l->acceptor.close(ignored);
    }
    listeners.clear();
  }

  Status reload_tls() {
    const HttpServerOptions& o = context->options();
    if (!o.tls.enabled()) return invalid_argument("http server: TLS is not configured");
    INFERD_ASSIGN_OR_RETURN(auto tls, TlsContext::create(o.tls));
    context->set_tls_context(std::move(tls));
    return Status::ok_status();
  }

  void run_io_thread() {
    tls_io_server = this;
    while (true) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: I/O thread caught: {}", e.what());
      } catch (...) {
        spdlog::error("http: I/O thread caught an unknown exception");
      }
    }
  }

  void do_accept(Listener& l) {
    l.acceptor.async_accept(net::make_strand(ioc), [this, &l](error_code ec, tcp::socket socket) {
      on_accept(l, ec, std::move(socket));
    });
  }

  void on_accept(Listener& l, error_code ec, tcp::socket socket) {
    if (!l.acceptor.is_open() || ec == net::error::operation_aborted) return;
    if (ec) {
      spdlog::warn("http: accept failed: {}", ec.message());
      l.retry_timer.expires_after(kAcceptRetryDelay);
      l.retry_timer.async_wait([this, &l](error_code timer_ec) {
        if (!timer_ec && l.acceptor.is_open()) do_accept(l);
      });
      return;
    }
    const HttpServerOptions& o = context->options();
    if (context->stopping()) {
      error_code ignored;
      socket.close(ignored);
    } else if (context->num_open() >= static_cast<size_t>(o.max_connections)) {
      // A TLS client could read an answer only after a handshake: it is closed at once.
      if (!l.tls && context->num_rejecting.load() < std::max(16, o.max_connections)) {
        std::make_shared<Rejection>(context, std::move(socket))->start();
      } else {
        error_code ignored;
        socket.close(ignored);
      }
    } else {
      // Streamed tokens are small writes that must leave at once (no Nagle delay).
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      const uint64_t id = next_connection_id.fetch_add(1, std::memory_order_relaxed);
      auto connection = std::make_shared<Connection>(
          context, std::move(socket), l.tls ? context->tls_context() : nullptr, l.role, id);
      if (context->register_connection(id, connection)) connection->post_start();
    }
    do_accept(l);
  }

  // Stops accepting, closes idle connections and arms the deadline. Under state_mu.
  void begin_stop() {
    const auto connections = context->begin_stopping();
    for (const auto& l : listeners) {
      net::post(l->acceptor.get_executor(), [l = l.get()] {
        error_code ignored;
        l->acceptor.close(ignored);
        l->retry_timer.cancel();
      });
    }
    for (const auto& c : connections) c->post_begin_shutdown();
    stop_deadline = std::chrono::steady_clock::now() + context->options().shutdown_deadline;
    net::post(deadline_timer.get_executor(), [this] {
      deadline_timer.expires_at(stop_deadline);
      deadline_timer.async_wait([this](error_code ec) {
        if (!ec) force_close_all();
      });
    });
  }

  void force_close_all() {
    for (const auto& c : context->snapshot()) c->post_force_close();
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(state_mu);
      if (state == State::kNew) {
        state = State::kStopped;
        return;
      }
      if (state == State::kRunning) {
        state = State::kStopping;
        begin_stop();
      }
    }
    if (on_io_thread()) return;  // the destructor or a later stop() joins
    std::lock_guard<std::mutex> join_lock(join_mu);
    if (threads.empty()) return;
    if (!context->wait_until_closed(stop_deadline)) {
      force_close_all();
      if (!context->wait_until_closed(std::chrono::steady_clock::now() + kForceCloseGrace)) {
        spdlog::warn("http: {} connections still open at shutdown", context->num_open());
      }
    }
    // Exchanges still held by handlers keep their connection objects, which use this I/O
    // context; they let go once answered or cancelled (all are cancelled by now).
    if (!context->wait_until_destroyed(std::chrono::steady_clock::now() + kForceCloseGrace))
      spdlog::warn("http: connections still referenced by handlers at shutdown");
    work.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
    threads.clear();
    std::lock_guard<std::mutex> lock(state_mu);
    state = State::kStopped;
    spdlog::info("http: stopped");
  }

  // Declared first: destroyed last, after everything that uses it.
  net::io_context ioc;
  std::shared_ptr<ServerContext> context;
  std::vector<std::unique_ptr<Listener>> listeners;  // [0]: the API port; [1]: the redirect port
  net::steady_timer deadline_timer;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<uint64_t> next_connection_id{1};
  uint16_t bound_port = 0;
  std::chrono::steady_clock::time_point stop_deadline{};  // set under state_mu before joining

  std::mutex state_mu;
  State state = State::kNew;
  std::mutex join_mu;
};

HttpServer::HttpServer(HttpServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() {
  INFERD_CHECK_MSG(!impl_->on_io_thread(), "HttpServer destroyed on one of its own I/O threads");
  impl_->stop();
}

Status HttpServer::start() {
  return impl_->start();
}
void HttpServer::stop() {
  impl_->stop();
}

Status HttpServer::reload_tls() {
  return impl_->reload_tls();
}

uint16_t HttpServer::redirect_port() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  if (impl_->state == Impl::State::kNew || impl_->listeners.size() < 2) return 0;
  return impl_->listeners[1]->port;
}

uint16_t HttpServer::port() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->state == Impl::State::kNew ? 0 : impl_->bound_port;
}

const HttpServerOptions& HttpServer::options() const {
  return impl_->context->options();
}

size_t HttpServer::num_open_connections() const {
  return impl_->context->num_open();
}

}  // namespace inferd::server
