#include "net/listener.hpp"

#include "net/http_session.hpp"
#include "util/log.hpp"

#include <algorithm>

namespace roomcast::net {

listener::listener(asio::io_context& ioc, const tcp::endpoint& endpoint,
                   std::shared_ptr<gateway> gw, std::shared_ptr<session_registry> registry,
                   std::shared_ptr<const tls_context_holder> tls)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      acceptor_(strand_),
      backoff_timer_(strand_),
      gateway_(std::move(gw)),
      registry_(std::move(registry)),
      tls_(std::move(tls)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void listener::start() {
  asio::dispatch(strand_, [self = shared_from_this()] { self->do_accept(); });
}

void listener::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->stopped_ = true;
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->backoff_timer_.cancel();
  });
}

void listener::do_accept() {
  if (stopped_) return;
  acceptor_.async_accept(asio::make_strand(ioc_),
                         beast::bind_front_handler(&listener::on_accept, shared_from_this()));
}

void listener::on_accept(beast::error_code ec, tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Out of descriptors or a transient kernel error: back off instead of spinning.
    if (backoff_.count() == 0)
      log::warn("net", "accept failed, backing off", {{"error", ec.message()}});
    backoff_ = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(1000),
        backoff_.count() == 0 ? std::chrono::milliseconds(10) : backoff_ * 2);
    backoff_timer_.expires_after(backoff_);
    backoff_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  if (backoff_.count() != 0) {
    log::info("net", "accepting again");
    backoff_ = std::chrono::milliseconds(0);
  }
  beast::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);  // Beast leaves Nagle on
  start_http_session(std::move(socket), gateway_, registry_, tls_);
  do_accept();
}

}  // namespace roomcast::net
