// Idle plain sockets park: the server's sweep drops their WebSocket stream state
// (server_options::idle_park_after) and the next read, write or close reopens it.
// Each test waits until the socket has parked (the roomcast_connections_parked
// gauge), then checks that every way traffic can resume works.
#include "raw_ws.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <set>
#include <sstream>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

double metric(const server& srv, const std::string& name) {
  std::istringstream lines(http_get(srv.port(), "/metrics").body);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return -1;
}

/// Waits (bounded) until `n` sockets are parked.
bool parked(const server& srv, double n) {
  return within(wait_limit, [&] { return metric(srv, "roomcast_connections_parked") == n; })
      .has_value();
}

class raw_broadcast final : public raw_handler {
 public:
  void on_open(raw_socket& socket) override { socket.subscribe("all"); }
  void on_message(raw_socket& socket, std::string_view data, bool binary) override {
    socket.publish("all", data, binary);
  }
};

std::unique_ptr<server> start_parking_server(std::chrono::milliseconds after = 30ms) {
  server_options o;
  o.idle_park_after = after;
  o.shutdown_grace = 300ms;  // stop() waits for raw_ws, which never answers a close
  return start_test_server(o, [](server& srv) {
    srv.raw_endpoint("/raw", [] { return std::make_unique<raw_broadcast>(); });
  });
}

std::optional<std::string> next_text(raw_ws& ws) {
  auto f = ws.read_frame(wait_limit);
  if (!f) return std::nullopt;
  return f->payload;
}

TEST(Parking, AParkedSocketReadsWritesAndAnswersPings) {
  auto srv = start_parking_server();
  raw_ws a(srv->port(), "/raw");
  raw_ws b(srv->port(), "/raw");
  ASSERT_TRUE(parked(*srv, 2));

  // A frame to a parked socket: it reopens, reads, and the broadcast goes to a
  // socket that is parked too (a write reopens it).
  ASSERT_TRUE(a.write_all(raw_ws::text_frame("first")));
  EXPECT_EQ(next_text(a), "first");
  EXPECT_EQ(next_text(b), "first");
  ASSERT_TRUE(parked(*srv, 2));

  // A ping to a parked socket is answered. (A socket parks again only once a
  // message followed: after a control frame its read stays inside Beast.)
  ASSERT_TRUE(a.write_all(std::string("\x89\x82\0\0\0\0hi", 8)));
  auto pong = a.read_frame(wait_limit);
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 10);
  EXPECT_EQ(pong->payload, "hi");
  ASSERT_TRUE(a.write_all(raw_ws::text_frame("after ping")));
  EXPECT_EQ(next_text(a), "after ping");
  EXPECT_EQ(next_text(b), "after ping");
  ASSERT_TRUE(parked(*srv, 2));

  // Many frames in one write to a parked socket, and many broadcasts to the
  // other: all of them, in order.
  std::string burst;
  for (int i = 0; i < 200; ++i) burst += raw_ws::text_frame("m" + std::to_string(i));
  ASSERT_TRUE(b.write_all(burst));
  for (int i = 0; i < 200; ++i) {
    auto expected = "m" + std::to_string(i);
    ASSERT_EQ(next_text(a), expected);
    ASSERT_EQ(next_text(b), expected);
  }
  ASSERT_TRUE(parked(*srv, 2));
}

TEST(Parking, AParkedSocketClosesCleanlyEitherWay) {
  auto srv = start_parking_server();
  {
    raw_ws a(srv->port(), "/raw");
    ASSERT_TRUE(parked(*srv, 1));
    // The client's close: the server answers with its own close frame.
    ASSERT_TRUE(a.write_all(std::string("\x88\x82\0\0\0\0\x03\xe8", 8)));
    auto answer = a.read_frame(wait_limit);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->opcode, 8);
  }
  ASSERT_TRUE(within(wait_limit, [&] { return metric(*srv, "roomcast_connections") == 0; }));
  EXPECT_EQ(metric(*srv, "roomcast_connections_parked"), 0);

  // A dropped TCP connection while parked: the session ends.
  { raw_ws gone(srv->port(), "/raw");
    ASSERT_TRUE(parked(*srv, 1)); }
  ASSERT_TRUE(within(wait_limit, [&] { return metric(*srv, "roomcast_connections") == 0; }));
  EXPECT_EQ(metric(*srv, "roomcast_connections_parked"), 0);

  // The server's close (shutdown) reaches a parked socket as a close frame.
  raw_ws c(srv->port(), "/raw");
  ASSERT_TRUE(parked(*srv, 1));
  srv->stop();
  auto close = c.read_frame(wait_limit);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, 8);
  ASSERT_GE(close->payload.size(), 2u);
  EXPECT_EQ((static_cast<unsigned char>(close->payload[0]) << 8) |
                static_cast<unsigned char>(close->payload[1]),
            1001);
}

TEST(Parking, PhoenixClientsCarryOnAfterParking) {
  auto srv = start_parking_server();
  auto a = connect(*srv);
  auto b = connect(*srv);
  join_ok(*a, "room:park");
  join_ok(*b, "room:park");
  ASSERT_TRUE(parked(*srv, 2));
  // A push from a parked socket, a broadcast to a parked one, a heartbeat.
  ASSERT_TRUE(await(a->push("room:park", "shout", json::object{{"n", 1}})).ok());
  auto got = b->wait_for("room:park", "shout", wait_limit);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->payload.as_object().at("n"), 1);
  ASSERT_TRUE(parked(*srv, 2));
  EXPECT_TRUE(await(b->heartbeat()).ok());
  ASSERT_TRUE(parked(*srv, 2));
  ASSERT_TRUE(await(b->push("room:park", "shout", json::object{{"n", 2}})).ok());
  ASSERT_TRUE(a->wait_for("room:park", "shout", wait_limit));
}

TEST(Parking, ZeroNeverParks) {
  auto srv = start_parking_server(0ms);
  raw_ws a(srv->port(), "/raw");
  ASSERT_TRUE(a.write_all(raw_ws::text_frame("x")));
  EXPECT_EQ(next_text(a), "x");
  // Well past several would-be sweeps: nothing parked.
  EXPECT_FALSE(within(300ms, [&] { return metric(*srv, "roomcast_connections_parked") != 0; }));
}

}  // namespace
}  // namespace roomcast::testing
