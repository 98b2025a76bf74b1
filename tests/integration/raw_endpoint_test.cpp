// Raw endpoints (no Phoenix envelope): echo and broadcast servers as the
// standard WebSocket benchmarks define them.
#include "raw_ws.hpp"
#include "test_server.hpp"

#include <set>
#include <thread>

namespace roomcast::testing {
namespace {

class raw_echo final : public raw_handler {
 public:
  void on_message(raw_socket& socket, std::string_view data, bool binary) override {
    auto status = socket.send(data, binary);
    if (data == "status?")  // reports what the echo's send said
      socket.send(status == send_status::success ? "success" : "not success", false);
  }
};

class raw_broadcast final : public raw_handler {
 public:
  void on_open(raw_socket& socket) override { socket.subscribe("all"); }
  void on_message(raw_socket& socket, std::string_view data, bool binary) override {
    if (data == "unsubscribe") return socket.unsubscribe("all");
    socket.publish("all", data, binary);
  }
};

std::unique_ptr<server> start_raw(raw_handler_factory factory) {
  server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  auto srv = std::make_unique<server>(o);
  srv->raw_endpoint("*", std::move(factory));
  srv->start();
  return srv;
}

std::unique_ptr<client> connect_raw(const server& srv, const std::string& path = "/") {
  auto o = client_options(srv);
  o.raw = true;
  o.path = path;
  o.params.clear();
  return client::connect(o);
}

TEST(RawEndpoint, EchoKeepsPayloadAndOpcode) {
  auto srv = start_raw([] { return std::make_unique<raw_echo>(); });
  auto c = connect_raw(*srv, "/any/path");
  c->send_text("hello");
  auto text = c->next_raw(wait_limit);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->data, "hello");
  EXPECT_FALSE(text->binary);
  std::string bytes("\x00\xff\x10", 3);
  c->send_binary(bytes);
  auto bin = c->next_raw(wait_limit);
  ASSERT_TRUE(bin);
  EXPECT_EQ(bin->data, bytes);
  EXPECT_TRUE(bin->binary);
}

TEST(RawEndpoint, SendReportsSuccessOnAnIdleSocket) {
  auto srv = start_raw([] { return std::make_unique<raw_echo>(); });
  auto c = connect_raw(*srv);
  c->send_text("status?");
  ASSERT_TRUE(c->next_raw(wait_limit));  // the echo itself
  auto status = c->next_raw(wait_limit);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->data, "success");
}

TEST(RawEndpoint, BroadcastReachesEveryClientIncludingTheSender) {
  auto srv = start_raw([] { return std::make_unique<raw_broadcast>(); });
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(connect_raw(*srv));
    // Seeing its own message proves this client's subscription is in place.
    clients.back()->send_text("ready" + std::to_string(i));
    auto own = clients.back()->next_raw(wait_limit);
    ASSERT_TRUE(own);
    EXPECT_EQ(own->data, "ready" + std::to_string(i));
  }
  // Drain the earlier "ready" messages the later clients caused.
  for (int i = 0; i < 4; ++i)
    for (int j = i + 1; j < 4; ++j) ASSERT_TRUE(clients[static_cast<std::size_t>(i)]->next_raw(wait_limit));

  clients[2]->send_binary("B");
  for (auto& c : clients) {
    auto f = c->next_raw(wait_limit);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->data, "B");
    EXPECT_TRUE(f->binary);
  }
}

TEST(RawEndpoint, UnsubscribedClientsStopReceiving) {
  auto srv = start_raw([] { return std::make_unique<raw_broadcast>(); });
  auto a = connect_raw(*srv);
  a->send_text("a-ready");
  ASSERT_TRUE(a->next_raw(wait_limit));
  auto b = connect_raw(*srv);  // after a-ready went out: b never sees it
  b->send_text("b-ready");
  ASSERT_TRUE(b->next_raw(wait_limit));
  ASSERT_TRUE(a->next_raw(wait_limit));  // b-ready
  // Both go a -> room in order: the room drops a before it publishes "probe".
  a->send_text("unsubscribe");
  a->send_text("probe");
  auto probe = b->next_raw(wait_limit);
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->data, "probe");
  b->send_text("later");
  ASSERT_TRUE(b->next_raw(wait_limit));
  EXPECT_FALSE(a->next_raw(std::chrono::milliseconds(200)));
}

// Between messages an idle socket waits for readability instead of keeping a read
// inside Beast, which is right only when Beast holds no unread bytes. These send
// what can leave bytes behind: a frame in pieces, frames together, a control frame
// right after a message, a fragmented message.
TEST(RawEndpoint, ReadsFramesInPiecesAndTogether) {
  auto srv = start_raw([] { return std::make_unique<raw_echo>(); });
  raw_ws ws(srv->port(), "/");
  auto expect_echo = [&](std::string_view payload) {
    auto f = ws.read_frame(wait_limit);
    ASSERT_TRUE(f) << "no echo of " << payload;
    EXPECT_EQ(f->opcode, 1);
    EXPECT_EQ(f->payload, payload);
  };

  // One frame, a byte at a time (separate segments: the server wakes for each).
  auto hello = raw_ws::text_frame("hello");
  for (char byte : hello) {
    ASSERT_TRUE(ws.write_all(std::string_view(&byte, 1)));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  expect_echo("hello");

  // Two messages and a ping in one write: both echoed, the ping answered.
  const std::string ping("\x89\x80\0\0\0\0", 6);  // masked, empty
  ASSERT_TRUE(ws.write_all(raw_ws::text_frame("one") + raw_ws::text_frame("two") + ping));
  std::multiset<std::string> got;
  for (int i = 0; i < 3; ++i) {
    auto f = ws.read_frame(wait_limit);
    ASSERT_TRUE(f) << "frame " << i;
    got.insert(f->opcode == 10 ? std::string("<pong>") : f->payload);
  }
  EXPECT_EQ(got, (std::multiset<std::string>{"one", "two", "<pong>"}));

  // A message larger than Beast's 1.5 KB read buffer (Beast reads its tail straight
  // into the message, ending exactly at the frame's end) and a small one after it,
  // in one write: the second waits in the kernel, not in Beast.
  std::string big(4000, 'b');
  ASSERT_TRUE(ws.write_all(raw_ws::text_frame(big) + raw_ws::text_frame("small")));
  expect_echo(big);
  expect_echo("small");

  // A message and half of the next; the rest comes later.
  auto next = raw_ws::text_frame("second half arrives later");
  ASSERT_TRUE(ws.write_all(raw_ws::text_frame("first") + next.substr(0, 9)));
  expect_echo("first");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(ws.write_all(next.substr(9)));
  expect_echo("second half arrives later");

  // A message right after a ping: the ping sits behind nothing, the message too.
  ASSERT_TRUE(ws.write_all(ping + raw_ws::text_frame("after ping")));
  got.clear();
  for (int i = 0; i < 2; ++i) {
    auto f = ws.read_frame(wait_limit);
    ASSERT_TRUE(f) << "frame " << i;
    got.insert(f->opcode == 10 ? std::string("<pong>") : f->payload);
  }
  EXPECT_EQ(got, (std::multiset<std::string>{"after ping", "<pong>"}));

  // A fragmented message with a ping between its fragments, sent in three writes.
  ASSERT_TRUE(ws.write_all(std::string("\x01\x83\0\0\0\0abc", 9)));
  ASSERT_TRUE(ws.write_all(ping));
  auto pong = ws.read_frame(wait_limit);  // answered mid-message
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, 10);
  ASSERT_TRUE(ws.write_all(std::string("\x80\x82\0\0\0\0de", 8)));
  expect_echo("abcde");

  // And the socket still works as a plain echo afterwards.
  ASSERT_TRUE(ws.write_all(raw_ws::text_frame("last")));
  expect_echo("last");
}

}  // namespace
}  // namespace roomcast::testing
