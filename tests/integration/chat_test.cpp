// The chat demo's protocol (docs/chat.md) against a real server with the demo
// installed: login tokens, durable messages with id and seq, body checks,
// typing to the others only, presence by user name, room counts, history for
// a late joiner, the secret file, and the web UI as static files.
#include "chat_app.hpp"
#include "common/temp_dir.hpp"
#include "login.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <thread>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

struct chat_server {
  temp_dir dir;
  std::unique_ptr<server> srv;

  chat_server() {
    std::ofstream(dir.file("index.html")) << "<!doctype html><title>chat</title>";
    server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.data_dir = dir.path();
    srv = std::make_unique<server>(chat::with_chat_tokens(o, "chat-test-secret"));
    chat::install(*srv, {"chat-test-secret", std::chrono::seconds(60), dir.path()});
    srv->start();
  }

  [[nodiscard]] http_result login(const std::string& body) const {
    return http_post(srv->port(), "/api/login", body, "Content-Type: application/json\r\n");
  }

  /// Logs `name` in and connects with the token.
  [[nodiscard]] std::unique_ptr<client> connect_as(const std::string& name) const {
    auto res = login(json::serialize(json::object{{"name", name}}));
    EXPECT_EQ(res.status, 200) << res.body;
    auto token = json::parse(res.body).at("token").as_string();
    auto o = client_options(*srv);
    o.params["token"] = std::string(token);
    return client::connect(o);
  }

  [[nodiscard]] json::array rooms() const {
    auto res = http_get(srv->port(), "/api/rooms");
    EXPECT_EQ(res.status, 200);
    return json::parse(res.body).at("rooms").as_array();
  }
};

std::int64_t online_in(const json::array& rooms, std::string_view name) {
  for (const auto& r : rooms)
    if (r.at("name").as_string() == name) return r.at("online").to_number<std::int64_t>();
  return -1;
}

TEST(Chat, LoginHandsOutATokenForValidNamesOnly) {
  chat_server chat;
  auto ok = chat.login(R"({"name":"alice_01-x"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto body = json::parse(ok.body).as_object();
  EXPECT_EQ(body.at("user").as_string(), "alice_01-x");
  EXPECT_EQ(body.at("expires_in").as_int64(), 60);
  EXPECT_EQ(std::count(body.at("token").as_string().begin(), body.at("token").as_string().end(), '.'), 2);

  for (const char* bad : {R"({"name":""})", R"({"name":"a b"})", R"({"name":"ünï"})",
                          R"({"name":"abcdefghijklmnopqrstuvwxyz0123456"})", R"({"name":7})", R"({})"}) {
    auto res = chat.login(bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_NE(res.body.find("invalid_name"), std::string::npos) << bad << " -> " << res.body;
  }
  auto garbage = chat.login("not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.body.find("bad_request"), std::string::npos);
}

TEST(Chat, SocketsNeedALoginToken) {
  chat_server chat;
  try {
    client::connect(client_options(*chat.srv));
    FAIL() << "connected without a token";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 401"), std::string::npos) << e.what();
  }
  auto o = client_options(*chat.srv);
  o.params["token"] = sign_hs256("another-secret", json::object{{"sub", "mallory"}});
  EXPECT_THROW(client::connect(o), std::runtime_error);
}

TEST(Chat, MessagesCarryIdSeqUserBodyAndTs) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  auto bob = chat.connect_as("bob");
  join_ok(*alice, "room:lobby", json::object{{"device", "desktop"}});
  join_ok(*bob, "room:lobby", json::object{{"device", "phone"}});

  auto reply = await(alice->push("room:lobby", "new_msg", json::object{{"body", "hello bob"}}));
  ASSERT_TRUE(reply.ok()) << reply.reason();
  auto id = reply.response.at("id").as_string();
  auto seq = reply.response.at("seq").to_number<std::uint64_t>();
  EXPECT_EQ(id.size(), 16u);
  EXPECT_EQ(seq, 1u);
  for (auto* c : {alice.get(), bob.get()}) {
    auto msg = c->wait_for("room:lobby", "new_msg", wait_limit);
    ASSERT_TRUE(msg);
    const auto& p = msg->payload.as_object();
    EXPECT_EQ(p.at("id").as_string(), id);
    EXPECT_EQ(p.at("seq").to_number<std::uint64_t>(), seq);
    EXPECT_EQ(p.at("user").as_string(), "alice");  // from the token, not the payload
    EXPECT_EQ(p.at("body").as_string(), "hello bob");
    EXPECT_GT(p.at("ts").to_number<std::int64_t>(), 1'700'000'000'000);
  }
  auto second = await(bob->push("room:lobby", "new_msg", json::object{{"body", "hi"}}));
  EXPECT_EQ(second.response.at("seq").to_number<std::uint64_t>(), 2u);
}

TEST(Chat, BadBodiesGetAReason) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  join_ok(*alice, "room:checks");
  const std::pair<json::value, std::string> cases[] = {
      {json::object{{"body", ""}}, "body must not be empty"},
      {json::object{{"body", " \n\t "}}, "body must not be empty"},
      {json::object{{"body", 42}}, "body must be a string"},
      {json::object{}, "body is required"},
      {json::array{1}, "body is required"},
      {json::object{{"body", std::string(4097, 'x')}}, "body too long (max 4096 bytes)"},
  };
  for (const auto& [payload, reason] : cases) {
    auto r = await(alice->push("room:checks", "new_msg", payload));
    EXPECT_FALSE(r.ok()) << json::serialize(payload);
    EXPECT_EQ(r.reason(), reason) << json::serialize(payload);
  }
  auto longest = await(alice->push("room:checks", "new_msg", json::object{{"body", std::string(4096, 'x')}}));
  EXPECT_TRUE(longest.ok()) << longest.reason();
  auto unknown = await(alice->push("room:checks", "dance", json::object{}));
  EXPECT_FALSE(unknown.ok());
}

TEST(Chat, TypingReachesTheOthersOnlyAndIsNotHistory) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  auto bob = chat.connect_as("bob");
  join_ok(*alice, "room:t");
  join_ok(*bob, "room:t");
  EXPECT_TRUE(await(alice->push("room:t", "typing", json::object{})).ok());
  auto note = bob->wait_for("room:t", "typing", wait_limit);
  ASSERT_TRUE(note);
  EXPECT_EQ(note->payload.at("user").as_string(), "alice");
  // Alice's own reply came after the pushes were queued: she got none.
  EXPECT_FALSE(alice->wait_for("room:t", "typing", std::chrono::milliseconds(0)));
  auto page = chat.srv->history("room:t");
  EXPECT_TRUE(page.messages.empty());
}

TEST(Chat, PresenceIsKeyedByUserAndRoomsCountUsers) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  auto alice_phone = chat.connect_as("alice");
  auto bob = chat.connect_as("bob");
  join_ok(*alice, "room:p", json::object{{"device", "desktop"}});
  join_ok(*alice_phone, "room:p", json::object{{"device", "phone"}});
  join_ok(*bob, "room:p", json::object{{"device", "DROP TABLE"}});
  auto state = bob->wait_for("room:p", "presence_state", wait_limit);
  ASSERT_TRUE(state);
  const auto& metas = state->payload.at("alice").at("metas").as_array();
  ASSERT_EQ(metas.size(), 2u);  // two sockets, one user
  EXPECT_EQ(metas[0].at("device").as_string(), "desktop");
  EXPECT_EQ(metas[1].at("device").as_string(), "phone");
  EXPECT_TRUE(metas[0].as_object().contains("online_at"));
  // Bob's own meta arrives in a diff; an unexpected device name becomes "unknown".
  auto presence = chat.srv->presence_get("room:p", "bob");
  ASSERT_TRUE(presence);
  EXPECT_EQ(presence->at("metas").as_array()[0].at("device").as_string(), "unknown");

  EXPECT_EQ(online_in(chat.rooms(), "p"), 2);
  EXPECT_EQ(online_in(chat.rooms(), "lobby"), 0);  // always listed
  alice_phone->close();
  bob->close();
  // Leaves are processed by the room: wait (bounded) for the count to follow.
  within(wait_limit, [&] { return online_in(chat.rooms(), "p") == 1; });
  EXPECT_EQ(online_in(chat.rooms(), "p"), 1);
  alice->close();
  within(wait_limit, [&] { return online_in(chat.rooms(), "p") == -1; });
  EXPECT_EQ(online_in(chat.rooms(), "p"), -1);  // empty rooms leave the list
}

TEST(Chat, ALateJoinerGetsTheHistoryInOrder) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  join_ok(*alice, "room:h");
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(await(alice->push("room:h", "new_msg", json::object{{"body", "m" + std::to_string(i)}})).ok());
  auto carol = chat.connect_as("carol");
  auto joined = join_ok(*carol, "room:h", json::object{{"history", 50}});
  EXPECT_EQ(joined.response.at("last_seq").to_number<std::uint64_t>(), 3u);
  for (int i = 1; i <= 3; ++i) {
    auto msg = carol->wait_for("room:h", "new_msg", wait_limit);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->payload.at("body").as_string(), "m" + std::to_string(i));
    EXPECT_EQ(msg->payload.at("seq").to_number<int>(), i);
  }
  // A rejoin with since gets only what it missed.
  auto dave = chat.connect_as("dave");
  join_ok(*dave, "room:h", json::object{{"since", 2}});
  auto missed = dave->wait_for("room:h", "new_msg", wait_limit);
  ASSERT_TRUE(missed);
  EXPECT_EQ(missed->payload.at("seq").to_number<int>(), 3);
}

TEST(Chat, InvalidRoomNamesAreRefused) {
  chat_server chat;
  auto alice = chat.connect_as("alice");
  auto r = await(alice->join("room:no spaces!"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.reason().find("invalid room name"), std::string::npos) << r.reason();
}

TEST(Chat, TheWebUiIsServedWithETags) {
  chat_server chat;
  auto page = http_get(chat.srv->port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<title>chat</title>"), std::string::npos);
  auto raw = http_raw(chat.srv->port(), "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto at = raw.headers.find("ETag: ");
  ASSERT_NE(at, std::string::npos) << raw.headers;
  auto line_end = raw.headers.find("\r\n", at);
  auto etag = raw.headers.substr(at + 6, (line_end == std::string::npos ? raw.headers.size() : line_end) - at - 6);
  auto cached = http_get(chat.srv->port(), "/", "If-None-Match: " + etag + "\r\n");
  EXPECT_EQ(cached.status, 304);
  EXPECT_EQ(http_get(chat.srv->port(), "/missing.js").status, 404);
  EXPECT_EQ(http_get(chat.srv->port(), "/../etc/passwd").status, 404);
}

TEST(Chat, TheSecretIsMadeOnceAndKeptPrivate) {
  temp_dir dir;
  auto first = chat::load_or_create_secret(dir.file("data"));
  auto second = chat::load_or_create_secret(dir.file("data"));
  EXPECT_EQ(first, second);
  EXPECT_EQ(first.size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("data/chat-secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

}  // namespace
}  // namespace roomcast::testing
