#pragma once
// Raw endpoint mode: no Phoenix envelope. The application receives every frame of
// a socket as it arrived and can answer it, subscribe the socket to topics and
// publish frames to every subscriber of a topic.

#include "roomcast/backpressure.hpp"
#include "roomcast/socket_info.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace roomcast {

/// The socket as a raw handler sees it; valid during the handler's callbacks.
class raw_socket {
 public:
  virtual ~raw_socket() = default;
  /// Sends one frame to this socket; reports whether it goes out at once, waits
  /// behind unsent frames, or will be dropped (the socket is over budget and is
  /// closed for it: raw frames use the server's close policy). An estimate.
  virtual send_status send(std::string_view data, bool binary) = 0;
  /// Subscribes this socket to `topic`: it receives every frame published there.
  virtual void subscribe(std::string_view topic) = 0;
  virtual void unsubscribe(std::string_view topic) = 0;
  /// Sends `data` unchanged to every subscriber of `topic` (this socket included
  /// when it is subscribed). The frame is allocated once for all subscribers.
  virtual void publish(std::string_view topic, std::string_view data, bool binary) = 0;
  virtual void close(std::uint16_t code = 1000, std::string_view reason = {}) = 0;
  [[nodiscard]] virtual const socket_info& info() const = 0;
};

/// One instance per raw socket, run by that socket's connection actor.
class raw_handler {
 public:
  virtual ~raw_handler() = default;
  virtual void on_open(raw_socket&) {}
  virtual void on_message(raw_socket& socket, std::string_view data, bool binary) = 0;
  virtual void on_close(raw_socket&) {}
};

using raw_handler_factory = std::function<std::unique_ptr<raw_handler>()>;

}  // namespace roomcast
