// The HTTP API for other services over a real socket: authentication, bad input,
// broadcast (plain and durable), disconnect by user, topics with member counts,
// presence.
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string auth = "Authorization: Bearer api-test-key\r\n";

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.io_threads = 2;
    o.actor_threads = 2;
    o.data_dir = dir_.path();
    o.api_keys = {"api-test-key"};
    o.store.durable.push_back({"journal:*", {}});
    srv_ = std::make_unique<server>(o);
    register_test_channels(*srv_);
    // Sockets say who they are with ?user=NAME (a real app would check a token).
    srv_->on_connect([](const connect_request& req) {
      auto user = req.params.find("user");
      return connect_result::accept(user == req.params.end() ? "" : user->second);
    });
    srv_->start();
  }

  std::unique_ptr<client> connect_as(const std::string& user) {
    auto o = client_options(*srv_);
    o.params["user"] = user;
    return client::connect(o);
  }

  http_result post(const std::string& target, const json::value& body) {
    return http_post(srv_->port(), target, json::serialize(body), auth);
  }

  temp_dir dir_;
  std::unique_ptr<server> srv_;
};

TEST_F(HttpApiTest, EveryEndpointNeedsTheKeyAndItsMethod) {
  struct endpoint {
    std::string method, target;
  };
  for (const auto& e : {endpoint{"POST", "/api/broadcast"}, endpoint{"POST", "/api/disconnect"},
                        endpoint{"GET", "/api/topics"}, endpoint{"GET", "/api/topics/room:a/presence"},
                        endpoint{"GET", "/api/topics/room:a/history"}}) {
    auto none = http_call(srv_->port(), e.method, e.target, "{}", "");
    EXPECT_EQ(none.status, 401) << e.target;
    EXPECT_EQ(json::parse(none.body).at("error"), "unauthorized") << e.target;
    EXPECT_EQ(http_call(srv_->port(), e.method, e.target, "{}", "Authorization: Bearer nope\r\n").status, 401)
        << e.target;
    // The scheme is case-insensitive; the key is not.
    EXPECT_NE(http_call(srv_->port(), e.method, e.target, "{}", "Authorization: bearer api-test-key\r\n").status, 401)
        << e.target;
    EXPECT_EQ(http_call(srv_->port(), e.method, e.target, "{}", "Authorization: Bearer API-TEST-KEY\r\n").status, 401)
        << e.target;
    auto other = e.method == "GET" ? "POST" : "GET";
    EXPECT_EQ(http_call(srv_->port(), other, e.target, "{}", auth).status, 405) << e.target;
  }
}

TEST_F(HttpApiTest, BroadcastRefusesBadInputClearly) {
  auto bad = [&](const std::string& body, int status) {
    auto r = http_post(srv_->port(), "/api/broadcast", body, auth);
    EXPECT_EQ(r.status, status) << body << " -> " << r.body;
    auto parsed = json::parse(r.body);
    EXPECT_TRUE(parsed.at("error").is_string());
    EXPECT_TRUE(parsed.at("message").is_string());
  };
  bad("not json", 400);
  bad("[1,2]", 400);
  bad(R"({"event":"x"})", 400);
  bad(R"({"topic":"room:a"})", 400);
  bad(R"({"topic":"room:a","event":"phx_reply"})", 400);
  bad(R"({"topic":7,"event":"x"})", 400);
  bad(R"({"topic":"nochannel:a","event":"x"})", 404);
  bad(R"({"topic":"journal:a","event":"x","payload":[1]})", 400);  // durable: objects only
}

TEST_F(HttpApiTest, BroadcastReachesTheMembers) {
  auto c = connect_as("alice");
  join_ok(*c, "room:api");
  auto r = post("/api/broadcast", json::object{{"topic", "room:api"}, {"event", "notice"},
                                               {"payload", {{"text", "hello"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), (json::object{{"ok", true}, {"members", 1}}));
  auto m = c->wait_for("room:api", "notice", wait_limit);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.at("text"), "hello");
  // A topic nobody is in: nothing to deliver, still fine.
  auto empty = post("/api/broadcast", json::object{{"topic", "room:nobody"}, {"event", "e"}});
  EXPECT_EQ(json::parse(empty.body).at("members"), 0);
}

TEST_F(HttpApiTest, DurableBroadcastAnswersWithTheSeqAfterTheCommit) {
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    auto r = post("/api/broadcast", json::object{{"topic", "journal:api"}, {"event", "entry"},
                                                 {"payload", {{"n", expected}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).at("seq"), expected);
    EXPECT_EQ(srv_->history("journal:api").last_seq, expected);  // stored, with nobody there
  }
  auto late = connect_as("bob");
  join_ok(*late, "journal:api", json::object{{"since", 1}});
  auto m = late->wait_for("journal:api", "entry", wait_limit);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.at("seq"), 2);
}

TEST_F(HttpApiTest, DisconnectClosesEverySocketOfTheUserOnly) {
  auto alice_phone = connect_as("alice");
  auto alice_laptop = connect_as("alice");
  auto bob = connect_as("bob");
  join_ok(*alice_phone, "room:d");  // a round trip: every socket is registered by now
  join_ok(*alice_laptop, "room:d");
  join_ok(*bob, "room:d");
  auto r = post("/api/disconnect", json::object{{"user", "alice"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("disconnected"), 2);
  EXPECT_EQ(alice_phone->wait_closed(wait_limit), 1000);
  EXPECT_EQ(alice_laptop->wait_closed(wait_limit), 1000);
  EXPECT_TRUE(await(bob->heartbeat()).ok());
  EXPECT_EQ(json::parse(post("/api/disconnect", json::object{{"user", "nobody"}}).body)
                .at("disconnected"),
            0);
  EXPECT_EQ(http_post(srv_->port(), "/api/disconnect", R"({"user":""})", auth).status, 400);
}

TEST_F(HttpApiTest, TopicsListsRoomsWithMemberCounts) {
  auto a = connect_as("a");
  auto b = connect_as("b");
  join_ok(*a, "room:one");
  join_ok(*b, "room:one");
  join_ok(*a, "room:two");
  auto r = http_get(srv_->port(), "/api/topics", auth);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body),
            (json::object{{"topics", json::array{json::object{{"topic", "room:one"}, {"members", 2}},
                                                 json::object{{"topic", "room:two"}, {"members", 1}}}}}));
}

TEST_F(HttpApiTest, PresenceOfATopic) {
  auto a = connect_as("a");
  join_ok(*a, "presence:lobby", json::object{{"user", "ann"}, {"device", "phone"}});
  ASSERT_TRUE(a->wait_for("presence:lobby", "presence_state", wait_limit));
  auto r = http_get(srv_->port(), "/api/topics/presence:lobby/presence", auth);
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = json::parse(r.body);
  EXPECT_EQ(body.at("topic"), "presence:lobby");
  EXPECT_EQ(body.at("presences").at("ann").at("metas").as_array().size(), 1u);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/nochannel:x/presence", auth).status, 404);
  // A served topic without a room: empty.
  EXPECT_EQ(json::parse(http_get(srv_->port(), "/api/topics/presence:empty/presence", auth).body)
                .at("presences"),
            json::object());
}

TEST_F(HttpApiTest, ApplicationRoutesUnderApiAreLeftAlone) {
  EXPECT_EQ(http_get(srv_->port(), "/api/something-else", auth).status, 404);
}

}  // namespace
}  // namespace roomcast::testing
