#pragma once
// Hands a socket's inbound frames and its closing to the socket's connection actor.

#include "actors/messages.hpp"
#include "net/frame.hpp"

#include <caf/all.hpp>

namespace roomcast::actors {

class actor_receiver final : public net::ws_receiver {
 public:
  explicit actor_receiver(caf::actor connection) : connection_(std::move(connection)) {}

  void on_frame(std::string data, bool binary) override {
    caf::anon_send(connection_, inbound_atom::value, std::move(data), binary);
  }
  void on_closed(std::uint16_t code) override {
    caf::anon_send(connection_, closed_atom::value, code);
  }
  void on_dropped(std::uint64_t count) override {
    caf::anon_send(connection_, dropped_atom::value, count);
  }

 private:
  caf::actor connection_;
};

}  // namespace roomcast::actors
