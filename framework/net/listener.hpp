#pragma once
// Accepts TCP connections and starts an HTTP session for each. Accept errors
// (EMFILE when the process is out of file descriptors, ...) back off
// exponentially up to one second and are logged once per episode, never spun on.

#include "net/beast.hpp"
#include "net/gateway.hpp"
#include "net/session_registry.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace roomcast::net {

class listener : public std::enable_shared_from_this<listener> {
 public:
  /// Binds and listens; throws boost::system::system_error on failure.
  /// `tls` null: plain HTTP and ws:// only.
  listener(asio::io_context& ioc, const tcp::endpoint& endpoint, std::shared_ptr<gateway> gw,
           std::shared_ptr<session_registry> registry,
           std::shared_ptr<const tls_context_holder> tls);

  void start();
  /// Stops accepting; safe from any thread.
  void stop();
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);

  asio::io_context& ioc_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  std::shared_ptr<gateway> gateway_;
  std::shared_ptr<session_registry> registry_;
  std::shared_ptr<const tls_context_holder> tls_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace roomcast::net
