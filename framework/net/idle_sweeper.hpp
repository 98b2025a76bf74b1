#pragma once
// One timer per server, not one per socket: every `interval` it offers each
// session the chance to park (drop its stream state) if it had no traffic since
// the previous sweep. A socket parks after one to two intervals of silence.

#include "net/beast.hpp"
#include "net/session_registry.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace roomcast::net {

class idle_sweeper : public std::enable_shared_from_this<idle_sweeper> {
 public:
  idle_sweeper(asio::io_context& ioc, std::shared_ptr<session_registry> registry,
               std::chrono::milliseconds interval)
      : timer_(asio::make_strand(ioc)), registry_(std::move(registry)), interval_(interval) {}

  void start() { arm(); }

  /// Thread-safe; the timer stops at its next turn at the latest.
  void stop() {
    asio::post(timer_.get_executor(), [self = shared_from_this()] {
      self->stopped_ = true;
      self->timer_.cancel();
    });
  }

 private:
  void arm() {
    timer_.expires_after(interval_);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped_) return;
      self->registry_->sweep_idle();
      self->arm();
    });
  }

  asio::steady_timer timer_;  // on its own strand: stop() and the handler never overlap
  std::shared_ptr<session_registry> registry_;
  std::chrono::milliseconds interval_;
  bool stopped_ = false;  // touched only on the timer's strand
};

}  // namespace roomcast::net
