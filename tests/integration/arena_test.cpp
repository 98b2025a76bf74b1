// The arena demo over real sockets: matchmaking under 100 concurrent lobby
// joins, seats claimed with tokens, inputs moving players in the snapshots,
// reconnection within and after the grace, spectators, the tick rate with 8
// players and 50 spectators, and a room ending without players.
#include "arena_app.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <future>
#include <map>
#include <set>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

struct snapshot {
  std::uint32_t tick = 0;
  struct seat_state {
    bool connected;
    int x, y, score;
  };
  std::map<int, seat_state> players;
};

snapshot decode(const std::string& b) {
  auto u8 = [&](std::size_t i) { return static_cast<unsigned char>(b.at(i)); };
  auto u16 = [&](std::size_t i) { return u8(i) | (u8(i + 1) << 8); };
  snapshot s;
  s.tick = static_cast<std::uint32_t>(u8(0) | (u8(1) << 8) | (u8(2) << 16) | (u8(3) << 24));
  std::size_t n = u8(4), at = 5;
  for (std::size_t i = 0; i < n; ++i, at += 8)
    s.players[u8(at)] = {(u8(at + 1) & 1) != 0, u16(at + 2), u16(at + 4), u16(at + 6)};
  return s;
}

/// The next "state" snapshot on `topic`.
std::optional<snapshot> next_state(client& c, const std::string& topic) {
  auto m = c.wait_for(topic, "state", wait_limit);
  if (!m || !m->binary) return std::nullopt;
  return decode(*m->binary);
}

struct arena_server {
  std::unique_ptr<server> srv;
  std::shared_ptr<arena::matchmaker> seats;

  explicit arena_server(std::chrono::milliseconds grace = std::chrono::milliseconds(400),
                        std::chrono::milliseconds empty_timeout = std::chrono::milliseconds(30'000)) {
    server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = 2;
    o.actor_threads = 2;
    srv = std::make_unique<server>(o);
    arena::app_settings s;
    s.seats.grace = grace;
    s.rooms.empty_timeout = empty_timeout;
    seats = arena::install(*srv, s);
    srv->start();
  }

  /// A connected client holding a reservation from the lobby (lobby left again).
  std::pair<std::unique_ptr<client>, json::object> reserve() const {
    auto c = connect(*srv);
    auto r = join_ok(*c, "arena:lobby");
    await(c->leave("arena:lobby"));
    return {std::move(c), r.response.as_object()};
  }
};

std::string topic_of(const json::object& reservation) {
  return std::string(reservation.at("topic").as_string());
}

TEST(Arena, HundredConcurrentLobbyJoinsFillRoomsInOrder) {
  arena_server a;
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 100; ++i) clients.push_back(connect(*a.srv));
  std::vector<std::future<reply_message>> joins;
  for (auto& c : clients) joins.push_back(c->join("arena:lobby"));
  std::map<std::string, std::set<std::int64_t>> seats_by_room;
  std::vector<json::object> reservations;
  for (auto& f : joins) {
    auto r = await(std::move(f));
    ASSERT_TRUE(r.ok()) << r.reason();
    auto& o = r.response.as_object();
    EXPECT_TRUE(seats_by_room[std::string(o.at("room").as_string())].insert(o.at("seat").as_int64()).second);
    EXPECT_EQ(o.at("expires_in").as_int64(), 15);
    reservations.push_back(o);
  }
  ASSERT_EQ(seats_by_room.size(), 13u);
  for (int room = 1; room <= 13; ++room)
    EXPECT_EQ(seats_by_room[std::to_string(room)].size(), room < 13 ? 8u : 4u) << room;
  // Every reservation can be claimed: capacity holds in the rooms too.
  std::vector<std::future<reply_message>> claims;
  for (std::size_t i = 0; i < clients.size(); ++i)
    claims.push_back(clients[i]->join(topic_of(reservations[i]),
                                      json::object{{"seat_token", reservations[i].at("seat_token")}}));
  for (std::size_t i = 0; i < claims.size(); ++i) {
    auto r = await(std::move(claims[i]));
    ASSERT_TRUE(r.ok()) << r.reason();
    EXPECT_EQ(r.response.at("seat"), reservations[i].at("seat"));
  }
}

TEST(Arena, InputsMoveThePlayerInTheSnapshots) {
  arena_server a;
  auto [c, res] = a.reserve();
  auto topic = topic_of(res);
  auto joined = join_ok(*c, topic, json::object{{"seat_token", res.at("seat_token")}, {"name", "ann"}});
  int seat = static_cast<int>(joined.response.at("seat").as_int64());
  EXPECT_EQ(joined.response.at("tick_ms").as_int64(), 50);
  EXPECT_EQ(joined.response.at("roster").at("players").as_array()[0].at("name").as_string(), "ann");
  auto first = next_state(*c, topic);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->players.count(seat));
  int x0 = first->players[seat].x;
  c->push(topic, "input", json::object{{"dx", 1}, {"dy", 0}});
  std::optional<snapshot> later;
  for (int i = 0; i < 100; ++i) {
    later = next_state(*c, topic);
    ASSERT_TRUE(later);
    if (later->players[seat].x >= x0 + 50) break;  // 50 units: a few ticks at 250/s
  }
  EXPECT_GE(later->players[seat].x, x0 + 50);
  EXPECT_GT(later->tick, first->tick);
  auto bad = await(c->push(topic, "input", json::object{{"dx", 2}, {"dy", 0}}));
  EXPECT_FALSE(bad.ok());
}

TEST(Arena, ReconnectingWithinTheGraceKeepsTheSeatAfterItTheSeatIsLost) {
  arena_server a(std::chrono::milliseconds(400));
  auto [c, res] = a.reserve();
  auto topic = topic_of(res);
  json::object claim{{"seat_token", res.at("seat_token")}};
  int seat = static_cast<int>(join_ok(*c, topic, claim).response.at("seat").as_int64());
  auto watcher = connect(*a.srv);
  join_ok(*watcher, topic, json::object{{"spectate", true}});

  c->close();  // dropped: the seat is held
  auto dropped = watcher->wait_for(topic, "roster", wait_limit);
  ASSERT_TRUE(dropped);
  EXPECT_FALSE(dropped->payload.at("players").as_array()[0].at("connected").as_bool());
  auto back = connect(*a.srv);
  auto resumed = join_ok(*back, topic, claim);
  EXPECT_EQ(resumed.response.at("seat").as_int64(), seat);
  auto state = next_state(*back, topic);
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->players.at(seat).connected);

  back->close();
  // The grace runs out: the room removes the player (roster without it).
  bool removed = false;
  for (int i = 0; i < 5 && !removed; ++i) {
    auto roster = watcher->wait_for(topic, "roster", wait_limit);
    ASSERT_TRUE(roster);
    removed = roster->payload.at("players").as_array().empty();
  }
  EXPECT_TRUE(removed);
  auto late = connect(*a.srv);
  auto refused = await(late->join(topic, claim));
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.reason(), "seat_expired");
}

TEST(Arena, SpectatorsWatchWithoutASeat) {
  arena_server a;
  auto [c, res] = a.reserve();
  auto topic = topic_of(res);
  join_ok(*c, topic, json::object{{"seat_token", res.at("seat_token")}});
  auto s = connect(*a.srv);
  auto joined = join_ok(*s, topic, json::object{{"spectate", true}});
  EXPECT_TRUE(joined.response.at("spectator").as_bool());
  EXPECT_EQ(joined.response.at("roster").at("players").as_array().size(), 1u);
  EXPECT_TRUE(next_state(*s, topic));
  auto input = await(s->push(topic, "input", json::object{{"dx", 1}, {"dy", 0}}));
  EXPECT_EQ(input.reason(), "not_a_player");
  for (auto [params, reason] : {std::pair<json::object, std::string>{{}, "seat_token or spectate required"},
                                {{{"seat_token", "forged"}}, "invalid_seat_token"},
                                {{{"seat_token", 5}}, "invalid_seat_token"}}) {
    auto r = await(s->join(topic, params));
    EXPECT_EQ(r.reason(), reason);
  }
  auto nowhere = await(s->join("arena:999", json::object{{"spectate", true}}));
  EXPECT_EQ(nowhere.reason(), "no_such_room");
}

TEST(Arena, TickRateHoldsWithEightPlayersAndFiftySpectators) {
  arena_server a;
  std::vector<std::unique_ptr<client>> players;
  std::string topic;
  for (int i = 0; i < 8; ++i) {
    auto [c, res] = a.reserve();
    topic = topic_of(res);
    join_ok(*c, topic, json::object{{"seat_token", res.at("seat_token")}});
    c->push(topic, "input", json::object{{"dx", i % 2 ? 1 : -1}, {"dy", 1}});
    players.push_back(std::move(c));
  }
  EXPECT_EQ(topic, "arena:1");  // all eight in one room
  std::vector<std::unique_ptr<client>> spectators;
  for (int i = 0; i < 50; ++i) {
    spectators.push_back(connect(*a.srv));
    join_ok(*spectators.back(), topic, json::object{{"spectate", true}});
  }
  // Count what one player and one spectator receive over two seconds; 20 Hz
  // nominal. The bound is loose (sanitizers, a busy CI machine); a stalled or
  // halved tick fails it.
  auto count_for = [&](client& c) {
    int n = 0;
    std::uint32_t last = 0;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < end) {
      auto s = next_state(c, topic);
      if (!s) break;
      EXPECT_GT(s->tick, last);
      last = s->tick;
      ++n;
    }
    return n;
  };
  players[0]->wait_for(topic, "state", wait_limit);  // skip anything queued since the join
  auto player_rate = std::async(std::launch::async, [&] { return count_for(*players[3]); });
  int spectator_count = count_for(*spectators[49]);
  EXPECT_GE(spectator_count, 30);
  EXPECT_LE(spectator_count, 50);
  EXPECT_GE(player_rate.get(), 30);
}

TEST(Arena, ARoomWithoutPlayersEnds) {
  arena_server a(std::chrono::milliseconds(100), std::chrono::milliseconds(300));
  auto [c, res] = a.reserve();
  auto topic = topic_of(res);
  join_ok(*c, topic, json::object{{"seat_token", res.at("seat_token")}});
  auto watcher = connect(*a.srv);
  join_ok(*watcher, topic, json::object{{"spectate", true}});
  c->close();
  auto ended = watcher->wait_for(topic, "ended", wait_limit);
  ASSERT_TRUE(ended);
  EXPECT_FALSE(a.seats->exists(res.at("room").as_string().c_str()));
  auto again = await(watcher->join(topic, json::object{{"spectate", true}}));
  EXPECT_FALSE(again.ok());
  // The lobby seats newcomers in a new room.
  auto [d, next] = a.reserve();
  EXPECT_NE(next.at("room"), res.at("room"));
}

}  // namespace
}  // namespace roomcast::testing
