#pragma once
// One game, "arena:ID": players hold seats (claimed with the lobby's token),
// spectators watch. A fixed-rate tick inside the room actor applies the inputs,
// steps the game and broadcasts a binary snapshot; slow sockets drop old
// snapshots (drop_oldest) instead of stalling the tick. A dropped player keeps
// the seat for the grace period; a room without players ends after a timeout.

#include "game.hpp"
#include "matchmaker.hpp"
#include "tick_stats.hpp"

#include "roomcast/channel.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace arena {

struct room_settings {
  std::chrono::milliseconds tick{50};              ///< 20 Hz
  std::chrono::milliseconds empty_timeout{30'000};  ///< no seat taken, reserved or held
};

class arena_room final : public roomcast::channel {
 public:
  arena_room(std::string room, std::shared_ptr<matchmaker> seats, room_settings settings,
             std::shared_ptr<tick_stats> stats);

  roomcast::join_result on_join(const roomcast::json::value& params,
                                const roomcast::member& who) override;
  roomcast::reply on_event(std::string_view event, const roomcast::json::value& payload,
                           const roomcast::member& from) override;
  void on_leave(const roomcast::member& who, roomcast::leave_reason why) override;

  /// While it ticks: a room that never seated anyone (every join refused) stops at once.
  [[nodiscard]] bool keep_when_empty() const override { return ticker_.has_value() && !ended_; }
  [[nodiscard]] std::optional<roomcast::overflow_policy> outbound_policy() const override {
    return roomcast::overflow_policy::drop_oldest;
  }
  /// A few snapshots' worth: a slow client skips stale states early.
  [[nodiscard]] std::optional<std::size_t> outbound_budget() const override { return 16 * 1024; }

 private:
  struct holder {
    std::uint64_t member_id;
    std::string token;
  };

  roomcast::join_result join_as_player(const roomcast::json::object& params,
                                       const roomcast::member& who);
  void tick();
  void free_expired_seats();
  void end_game();
  [[nodiscard]] roomcast::json::object roster() const;

  std::string room_;
  std::shared_ptr<matchmaker> seats_;
  room_settings settings_;
  game game_;
  std::map<std::size_t, holder> holders_;               // seat -> who plays it now
  std::map<std::uint64_t, std::size_t> seat_of_member_;  // member id -> seat
  std::shared_ptr<tick_stats> stats_;
  std::optional<roomcast::timer_id> ticker_;
  clock::time_point first_tick_due_{};
  std::uint32_t tick_ = 0;
  std::optional<clock::time_point> empty_since_;
  bool ended_ = false;
};

}  // namespace arena
