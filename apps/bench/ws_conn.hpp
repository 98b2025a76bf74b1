#pragma once
// A lightweight WebSocket client connection for load generation: thousands of
// them share one io_context. Callbacks run on that io_context's thread(s), each
// connection on its own strand.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace roomcast::bench {

class ws_conn {
 public:
  using message_handler = std::function<void(std::string_view data, bool binary)>;
  using done_handler = std::function<void(bool ok, const std::string& error)>;

  virtual ~ws_conn() = default;
  /// Connects to host:port, upgrades at `target`; `done` reports the outcome.
  virtual void connect(const std::string& host, std::uint16_t port, const std::string& target,
                       done_handler done) = 0;
  virtual void on_message(message_handler handler) = 0;
  /// Queues a frame; safe from any thread.
  virtual void send(std::string data, bool binary = false) = 0;
  virtual void close() = 0;
  [[nodiscard]] virtual bool is_open() const = 0;
};

std::shared_ptr<ws_conn> make_ws_conn(boost::asio::io_context& ioc);

}  // namespace roomcast::bench
