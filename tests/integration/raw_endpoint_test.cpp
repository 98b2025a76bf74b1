// Raw endpoints (no Phoenix envelope): echo and broadcast servers as the
// standard WebSocket benchmarks define them.
#include "test_server.hpp"

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

}  // namespace
}  // namespace roomcast::testing
