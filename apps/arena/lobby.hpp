#pragma once
// "arena:lobby": matchmaking. Joining it reserves a seat in the oldest room with
// one free (or a new room); the join reply carries the room and a seat token
// valid for the reservation time. The client then leaves the lobby and joins
// "arena:ID" with {"seat_token": TOKEN}.

#include "matchmaker.hpp"

#include "roomcast/channel.hpp"

#include <memory>

namespace arena {

class lobby final : public roomcast::channel {
 public:
  explicit lobby(std::shared_ptr<matchmaker> seats) : seats_(std::move(seats)) {}

  roomcast::join_result on_join(const roomcast::json::value&, const roomcast::member&) override {
    auto r = seats_->reserve(clock::now());
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(seats_->settings().reservation_ttl);
    return roomcast::join_result::accept(roomcast::json::object{{"room", r.room},
                                                                {"topic", "arena:" + r.room},
                                                                {"seat", r.seat},
                                                                {"seat_token", r.token},
                                                                {"expires_in", ttl.count()}});
  }

 private:
  std::shared_ptr<matchmaker> seats_;
};

}  // namespace arena
