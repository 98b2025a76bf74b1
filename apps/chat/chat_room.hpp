#pragma once
// One chat room, "room:NAME" (the demo's protocol: docs/chat.md). Durable: every
// message gets a seq, is stored before it is sent, and is replayed to joiners
// that ask with {"since": N} or {"history": K}. Presence is keyed by user name.

#include "names.hpp"
#include "room_index.hpp"

#include "roomcast/channel.hpp"

#include <memory>
#include <random>
#include <string>
#include <unordered_map>

namespace chat {

inline constexpr std::size_t max_body_bytes = 4096;

class chat_room final : public roomcast::channel {
 public:
  chat_room(std::string room, std::shared_ptr<room_index> index);

  roomcast::join_result on_join(const roomcast::json::value& params,
                                const roomcast::member& who) override;
  roomcast::reply on_event(std::string_view event, const roomcast::json::value& payload,
                           const roomcast::member& from) override;
  void on_leave(const roomcast::member& who, roomcast::leave_reason why) override;

  [[nodiscard]] bool durable() const override { return true; }
  [[nodiscard]] bool uses_presence() const override { return true; }

 private:
  roomcast::reply new_message(const roomcast::json::value& payload, const roomcast::member& from);
  roomcast::reply typing(const roomcast::member& from);
  std::string next_id();

  std::string room_;
  std::shared_ptr<room_index> index_;
  std::unordered_map<std::string, std::size_t> sockets_of_user_;  // online users
  std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace chat
