#pragma once
// Seats of the arena's rooms, shared by the lobby (which reserves them) and the
// rooms (which claim, release and expire them), each in its own actor: every
// call takes the lock. Time is passed in, so the rules are testable without
// waiting.
//
// A seat is reserved (token valid for reservation_ttl), then taken (a player
// joined with the token), then held (the player dropped: kept for the grace
// period, resumable with the same token), then free again.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace arena {

using clock = std::chrono::steady_clock;

struct matchmaker_settings {
  std::size_t capacity = 8;                        ///< seats per room
  std::chrono::milliseconds reservation_ttl{15'000};  ///< to join after the lobby
  std::chrono::milliseconds grace{20'000};         ///< a dropped player keeps the seat
};

struct reservation {
  std::string room;   ///< room id: the topic is "arena:" + room
  std::size_t seat = 0;
  std::string token;  ///< also resumes the seat after a drop
};

enum class claim_error { no_such_room, invalid_token, expired };

class matchmaker {
 public:
  explicit matchmaker(matchmaker_settings settings);

  /// A seat in the oldest open room with one free, else in a new room.
  reservation reserve(clock::time_point now);
  /// A player joins with `token`: its seat, or why not. Taking a seat that is
  /// already taken (a reconnect the room has not noticed yet) succeeds.
  /// `resumed`: the seat was taken or held before (the player comes back), not
  /// just reserved (a new player).
  std::optional<std::size_t> claim(const std::string& room, const std::string& token,
                                   clock::time_point now, claim_error* why = nullptr,
                                   bool* resumed = nullptr);
  /// The player holding `token` dropped: the seat is held until now + grace.
  void release(const std::string& room, const std::string& token, clock::time_point now);
  /// Frees reservations and held seats that ran out; returns the seats freed.
  /// Only the room calls it for held seats: it owns their players.
  std::vector<std::size_t> expire(const std::string& room, clock::time_point now);
  /// Ends the room if no seat is reserved, taken or held, in one step (so that
  /// the lobby cannot seat someone in between); true when it ended.
  bool end_if_unoccupied(const std::string& room);
  /// Whether any seat is reserved, taken or held.
  [[nodiscard]] bool occupied(const std::string& room) const;
  /// The room is over: no more seats in it, its tokens stop working.
  void end(const std::string& room);
  [[nodiscard]] bool exists(const std::string& room) const;
  [[nodiscard]] const matchmaker_settings& settings() const { return settings_; }

 private:
  enum class seat_state { free, reserved, taken, held };
  struct seat {
    seat_state state = seat_state::free;
    std::string token;
    clock::time_point until{};  // reserved / held: when it runs out
  };
  struct room_seats {
    std::vector<seat> seats;
    /// Tokens of seats that ran out, latest last (a few per seat): a late
    /// rejoin hears "expired" rather than "invalid".
    std::deque<std::string> expired_tokens;
  };

  /// The room named `room`, or null (mutex held).
  const room_seats* find_locked(const std::string& room) const;
  room_seats* find_locked(const std::string& room) {
    return const_cast<room_seats*>(std::as_const(*this).find_locked(room));
  }
  /// Frees a seat that ran out, remembering its token.
  static void retire(room_seats& r, seat& s);
  /// Frees the seats that ran out: reservations always, held seats only when
  /// `held_too` (the room's own sweep, which removes their players).
  std::size_t expire_locked(room_seats& r, clock::time_point now, std::vector<std::size_t>* freed,
                            bool held_too);
  std::string new_token();

  const matchmaker_settings settings_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, room_seats> rooms_;  // by number: the oldest first (guarded)
  std::uint64_t next_room_ = 1;          // guarded
  std::mt19937_64 random_{std::random_device{}()};  // guarded
};

/// "12" -> 12; nullopt for anything that is not a room number.
std::optional<std::uint64_t> room_number(const std::string& room);

}  // namespace arena
