// The arena's pure logic: seats (reservations, claims, grace, expiry, rooms
// filled in order, under concurrent reservations) and the game (movement,
// clamping, coins, the snapshot layout).
#include "game.hpp"
#include "matchmaker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

namespace arena {
namespace {

using namespace std::chrono_literals;

matchmaker_settings small_rooms() {
  matchmaker_settings s;
  s.capacity = 3;
  s.reservation_ttl = 15s;
  s.grace = 20s;
  return s;
}

TEST(Matchmaker, FillsRoomsInOrderUpToCapacity) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  std::vector<std::pair<std::string, std::size_t>> got;
  for (int i = 0; i < 7; ++i) {
    auto r = m.reserve(t);
    got.emplace_back(r.room, r.seat);
    EXPECT_EQ(r.token.size(), 32u);
  }
  std::vector<std::pair<std::string, std::size_t>> expected = {
      {"1", 0}, {"1", 1}, {"1", 2}, {"2", 0}, {"2", 1}, {"2", 2}, {"3", 0}};
  EXPECT_EQ(got, expected);
}

TEST(Matchmaker, ClaimsCheckRoomTokenAndTime) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto r = m.reserve(t);
  claim_error why{};
  EXPECT_FALSE(m.claim("9", r.token, t, &why));
  EXPECT_EQ(why, claim_error::no_such_room);
  EXPECT_FALSE(m.claim("01", r.token, t, &why));
  EXPECT_EQ(why, claim_error::no_such_room);
  EXPECT_FALSE(m.claim(r.room, "nope", t, &why));
  EXPECT_EQ(why, claim_error::invalid_token);
  EXPECT_FALSE(m.claim(r.room, "", t, &why));
  EXPECT_EQ(why, claim_error::invalid_token);
  auto late = m.reserve(t);
  EXPECT_FALSE(m.claim(late.room, late.token, t + 15s, &why));
  EXPECT_EQ(why, claim_error::expired);
  EXPECT_EQ(m.claim(r.room, r.token, t + 14s), r.seat);
  // Claiming a taken seat again (a reconnect not noticed yet) keeps it.
  EXPECT_EQ(m.claim(r.room, r.token, t + 20s), r.seat);
}

TEST(Matchmaker, UnclaimedReservationsFreeTheirSeat) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto a = m.reserve(t);
  EXPECT_TRUE(m.occupied(a.room));
  EXPECT_EQ(m.expire(a.room, t + 15s), std::vector<std::size_t>{0});
  EXPECT_FALSE(m.occupied(a.room));
  auto b = m.reserve(t + 15s);
  EXPECT_EQ(b.room, a.room);
  EXPECT_EQ(b.seat, 0u);
  EXPECT_NE(b.token, a.token);
}

TEST(Matchmaker, ADroppedPlayerKeepsTheSeatForTheGrace) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto r = m.reserve(t);
  ASSERT_TRUE(m.claim(r.room, r.token, t));
  EXPECT_TRUE(m.expire(r.room, t + 1h).empty());  // a taken seat never runs out
  m.release(r.room, r.token, t + 1s);
  EXPECT_TRUE(m.expire(r.room, t + 20s).empty());
  EXPECT_EQ(m.claim(r.room, r.token, t + 20s), r.seat);  // resumed within the grace
  m.release(r.room, r.token, t + 30s);
  EXPECT_EQ(m.expire(r.room, t + 50s), std::vector<std::size_t>{r.seat});
  claim_error why{};
  EXPECT_FALSE(m.claim(r.room, r.token, t + 50s, &why));
  EXPECT_EQ(why, claim_error::expired);  // the seat is free again; the token says why it failed
}

TEST(Matchmaker, HeldSeatsAreFreedByTheirRoomOnly) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto r = m.reserve(t);
  bool resumed = true;
  ASSERT_TRUE(m.claim(r.room, r.token, t, nullptr, &resumed));
  EXPECT_FALSE(resumed);  // a new player
  m.release(r.room, r.token, t);
  // The lobby does not free a held seat (the room still shows its player) ...
  for (int i = 0; i < 2; ++i) EXPECT_NE(m.reserve(t + 1h).seat, r.seat);
  claim_error why{};
  EXPECT_FALSE(m.claim(r.room, r.token, t + 1h, &why));
  EXPECT_EQ(why, claim_error::expired);
  // ... the room's own sweep does, and then the seat is free for others.
  EXPECT_EQ(m.expire(r.room, t + 1h), std::vector<std::size_t>{r.seat});
  EXPECT_EQ(m.reserve(t + 1h).seat, r.seat);
  // Coming back within the grace is a resume.
  auto other = m.reserve(t);
  ASSERT_TRUE(m.claim(other.room, other.token, t));
  m.release(other.room, other.token, t);
  ASSERT_TRUE(m.claim(other.room, other.token, t + 1s, nullptr, &resumed));
  EXPECT_TRUE(resumed);
}

TEST(Matchmaker, EndIfUnoccupiedIsOneStep) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto r = m.reserve(t);
  EXPECT_FALSE(m.end_if_unoccupied(r.room));  // a reservation holds it
  m.expire(r.room, t + 15s);
  EXPECT_TRUE(m.end_if_unoccupied(r.room));
  EXPECT_FALSE(m.exists(r.room));
}

TEST(Matchmaker, EndedRoomsTakeNoMoreSeats) {
  matchmaker m(small_rooms());
  auto t = clock::now();
  auto r = m.reserve(t);
  m.end(r.room);
  EXPECT_FALSE(m.exists(r.room));
  EXPECT_FALSE(m.claim(r.room, r.token, t));
  EXPECT_EQ(m.reserve(t).room, "2");
}

TEST(Matchmaker, ConcurrentReservationsNeverShareASeat) {
  matchmaker_settings s;  // capacity 8
  matchmaker m(s);
  std::mutex mutex;
  std::set<std::pair<std::string, std::size_t>> seats;
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i)
    threads.emplace_back([&] {
      auto r = m.reserve(clock::now());
      std::lock_guard lock(mutex);
      EXPECT_TRUE(seats.emplace(r.room, r.seat).second) << r.room << "/" << r.seat;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(seats.size(), 100u);
  std::map<std::string, int> per_room;
  for (const auto& [room, seat] : seats) ++per_room[room];
  EXPECT_EQ(per_room.size(), 13u);  // 12 full rooms of 8, then 4
  for (int room = 1; room <= 12; ++room) EXPECT_EQ(per_room[std::to_string(room)], 8);
  EXPECT_EQ(per_room["13"], 4);
}

TEST(Game, MovesAtItsSpeedAndStaysInTheWorld) {
  game g(1);
  g.add_player(2, "p");
  auto x0 = g.players().at(2).x;
  g.set_input(2, 5, 0);  // clamped to 1
  g.step(0.1);
  EXPECT_NEAR(g.players().at(2).x - x0, player_speed * 0.1, 1e-9);
  g.set_input(2, 1, 1);
  auto before = g.players().at(2);
  g.step(0.1);
  auto moved = std::hypot(g.players().at(2).x - before.x, g.players().at(2).y - before.y);
  EXPECT_NEAR(moved, player_speed * 0.1, 1e-6);  // diagonals are not faster
  for (int i = 0; i < 100; ++i) g.step(0.1);
  EXPECT_EQ(g.players().at(2).x, world_size);
  g.set_connected(2, false);  // a dropped player stands still
  g.set_input(2, -1, 0);
  g.set_connected(2, true);
  auto x = g.players().at(2).x;
  g.step(0.1);
  EXPECT_LT(g.players().at(2).x, x);
}

TEST(Game, WalkingOntoACoinScores) {
  game g(7);
  g.add_player(0, "bot");
  // Steer like a bot towards the first coin until the score moves (bounded).
  for (int i = 0; i < 400 && g.players().at(0).score == 0; ++i) {
    const auto& p = g.players().at(0);
    const auto& c = g.coins().front();
    auto dir = [](double d) { return std::abs(d) < 5 ? 0 : d > 0 ? 1 : -1; };
    g.set_input(0, dir(c.x - p.x), dir(c.y - p.y));
    g.step(0.02);
  }
  EXPECT_EQ(g.players().at(0).score, 1);
  EXPECT_EQ(g.coins().size(), coin_count);  // a new coin replaced it
}

TEST(Game, SnapshotLayout) {
  game g(3);
  g.add_player(1, "a");
  g.add_player(5, "b");
  g.set_connected(5, false);
  auto s = g.snapshot(0x01020304);
  ASSERT_EQ(s.size(), 4 + 1 + 2 * 8 + 1 + coin_count * 4);
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  EXPECT_EQ(byte(0), 0x04);
  EXPECT_EQ(byte(3), 0x01);
  EXPECT_EQ(byte(4), 2);  // players
  EXPECT_EQ(byte(5), 1);  // seat
  EXPECT_EQ(byte(6), 1);  // connected
  auto x = byte(7) | (byte(8) << 8);
  EXPECT_EQ(x, static_cast<int>(g.players().at(1).x));
  EXPECT_EQ(byte(13), 5);
  EXPECT_EQ(byte(14), 0);  // dropped
  EXPECT_EQ(byte(21), coin_count);
}

}  // namespace
}  // namespace arena
