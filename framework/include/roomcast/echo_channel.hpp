#pragma once
// A ready-made channel, served by build/bin/roomcast as "echo:*": accepts every join; answers every pushed event with
// ok and the same payload, and broadcasts that event and payload to every member
// of the topic, the pusher included. Binary pushes are echoed as binary.

#include "roomcast/channel.hpp"

namespace roomcast {

class echo_channel final : public channel {
 public:
  join_result on_join(const json::value&, const member&) override { return join_result::accept(); }

  reply on_event(std::string_view event, const json::value& payload, const member&) override {
    broadcast(event, payload);
    return reply::ok(payload);
  }

  reply on_binary(std::string_view event, std::string_view bytes, const member&) override {
    broadcast_binary(event, bytes);
    return reply::ok_binary(std::string(bytes));
  }
};

}  // namespace roomcast
