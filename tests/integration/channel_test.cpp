// Channels over real sockets: join, push/reply, broadcast, broadcast_from, push
// to one member, leave, close, timers, crash and rejoin.
#include "test_server.hpp"

#include <boost/json.hpp>

#include <vector>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { srv_ = start_test_server(); }
  std::unique_ptr<server> srv_;
};

TEST_F(ChannelTest, JoinThenPushGetsReply) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:lobby");
  auto r = await(c->push("echo:lobby", "ping", json::object{{"x", 1}}));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.response, (json::object{{"x", 1}}));
  EXPECT_EQ(r.raw.topic, "echo:lobby");
}

TEST_F(ChannelTest, BroadcastReachesEveryMemberOnce) {
  constexpr int members = 6;
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < members; ++i) {
    clients.push_back(connect(*srv_));
    join_ok(*clients.back(), "room:fanout");
  }
  ASSERT_TRUE(await(clients[0]->push("room:fanout", "shout", json::object{{"n", 7}})).ok());
  for (auto& c : clients) {
    auto m = c->wait_for("room:fanout", "shout", wait_limit);
    ASSERT_TRUE(m) << "a member missed the broadcast";
    EXPECT_EQ(m->payload, (json::object{{"n", 7}}));
    EXPECT_FALSE(m->join_ref.has_value()) << "broadcasts carry a null join_ref";
    EXPECT_FALSE(m->ref.has_value());
  }
  // Exactly once: a second round trip through the room would follow a duplicate.
  for (auto& c : clients) {
    ASSERT_TRUE(await(c->push("room:fanout", "count")).ok());
    EXPECT_FALSE(c->wait_for("room:fanout", "shout", std::chrono::milliseconds(0)));
  }
}

TEST_F(ChannelTest, BroadcastFromSkipsTheSender) {
  auto sender = connect(*srv_);
  auto other = connect(*srv_);
  join_ok(*sender, "room:from");
  join_ok(*other, "room:from");
  ASSERT_TRUE(await(sender->push("room:from", "shout_others", json::object{{"m", "hi"}})).ok());
  auto m = other->wait_for("room:from", "shout_others", wait_limit);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload.at("m"), "hi");
  // The room answers in order: had the sender been sent the broadcast, it would
  // have arrived before the reply to this later push.
  ASSERT_TRUE(await(sender->push("room:from", "count")).ok());
  EXPECT_FALSE(sender->wait_for("room:from", "shout_others", std::chrono::milliseconds(0)));
}

TEST_F(ChannelTest, PushReachesOnlyThatMemberWithItsJoinRef) {
  auto a = connect(*srv_);
  auto b = connect(*srv_);
  auto joined = join_ok(*a, "room:whisper");
  join_ok(*b, "room:whisper");
  ASSERT_TRUE(await(a->push("room:whisper", "whisper", json::object{{"s", 1}})).ok());
  auto m = a->wait_for("room:whisper", "whisper", wait_limit);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->join_ref, joined.raw.join_ref);
  ASSERT_TRUE(await(b->push("room:whisper", "count")).ok());
  EXPECT_FALSE(b->wait_for("room:whisper", "whisper", std::chrono::milliseconds(0)));
}

TEST_F(ChannelTest, JoinRefusedWithReason) {
  auto c = connect(*srv_);
  auto r = await(c->join("room:picky", json::object{{"refuse", true}}));
  EXPECT_EQ(r.status, "error");
  EXPECT_EQ(r.reason(), "not allowed");
  auto p = await(c->join("private:alice"));
  EXPECT_EQ(p.reason(), "unauthorized");
  // A refused join leaves the topic unjoined.
  EXPECT_EQ(await(c->push("room:picky", "shout")).reason(), "unmatched topic");
}

TEST_F(ChannelTest, RefusedJoinKeepsNothingItTracked) {
  auto watcher = connect(*srv_);  // keeps the room alive throughout
  join_ok(*watcher, "room:refuse-tracked");
  auto c = connect(*srv_);
  EXPECT_EQ(await(c->join("room:refuse-tracked",
                          json::object{{"refuse", true}, {"track_first", true}})).reason(),
            "not allowed");
  EXPECT_TRUE(srv_->presence_list("room:refuse-tracked").empty());
  EXPECT_FALSE(watcher->wait_for("room:refuse-tracked", "presence_diff",
                                 std::chrono::milliseconds(100)))
      << "a join cancelled by its leave is not announced";
}

TEST_F(ChannelTest, BroadcastInOnJoinReachesOnlyEarlierMembers) {
  auto first = connect(*srv_);
  auto second = connect(*srv_);
  join_ok(*first, "room:greet");
  join_ok(*second, "room:greet");
  EXPECT_TRUE(first->wait_for("room:greet", "someone_joined", wait_limit));
  // The room answers in order: a broadcast to the joiner would precede this reply.
  ASSERT_TRUE(await(second->push("room:greet", "count")).ok());
  EXPECT_FALSE(second->wait_for("room:greet", "someone_joined", std::chrono::milliseconds(0)));
}

TEST_F(ChannelTest, JoinResponseComesFromTheChannel) {
  auto a = connect(*srv_);
  auto b = connect(*srv_);
  EXPECT_EQ(join_ok(*a, "room:count").response.at("joins").as_int64(), 1);
  EXPECT_EQ(join_ok(*b, "room:count").response.at("joins").as_int64(), 2);
}

TEST_F(ChannelTest, LeaveStopsDeliveryAndTellsTheRoom) {
  auto stays = connect(*srv_);
  auto leaves = connect(*srv_);
  join_ok(*stays, "room:leave");
  join_ok(*leaves, "room:leave");
  auto r = await(leaves->leave("room:leave"));
  EXPECT_TRUE(r.ok());
  auto left = stays->wait_for("room:leave", "left", wait_limit);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->payload.at("why"), "left");
  EXPECT_EQ(await(leaves->push("room:leave", "shout")).reason(), "unmatched topic");
  ASSERT_TRUE(await(stays->push("room:leave", "count")).ok());
  auto count = await(stays->push("room:leave", "count"));
  EXPECT_EQ(count.response.at("members").as_int64(), 1);
}

TEST_F(ChannelTest, ClosedSocketLeavesItsRooms) {
  auto stays = connect(*srv_);
  auto goes = connect(*srv_);
  join_ok(*stays, "room:close");
  join_ok(*goes, "room:close");
  goes->close();
  auto left = stays->wait_for("room:close", "left", wait_limit);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->payload.at("why"), "closed");
}

TEST_F(ChannelTest, DuplicateJoinClosesTheOldJoin) {
  auto c = connect(*srv_);
  auto first = join_ok(*c, "room:dup");
  auto second = join_ok(*c, "room:dup");
  auto closed = c->wait_for("room:dup", "phx_close", wait_limit);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->join_ref, first.raw.join_ref);
  EXPECT_NE(first.raw.join_ref, second.raw.join_ref);
  auto count = await(c->push("room:dup", "count"));
  EXPECT_EQ(count.response.at("members").as_int64(), 1);
}

TEST_F(ChannelTest, NoReplyMeansNoReply) {
  auto c = connect(*srv_);
  join_ok(*c, "room:silent");
  auto silent = c->push("room:silent", "silent");
  // The next push's reply comes back first; the silent one never resolves.
  ASSERT_TRUE(await(c->push("room:silent", "count")).ok());
  EXPECT_EQ(silent.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
}

TEST_F(ChannelTest, UnknownEventUsesTheDefault) {
  auto c = connect(*srv_);
  join_ok(*c, "room:unknown");
  EXPECT_EQ(await(c->push("room:unknown", "no_such_event")).reason(), "unknown event");
}

TEST_F(ChannelTest, OneShotTimer) {
  auto c = connect(*srv_);
  join_ok(*c, "room:timer");
  ASSERT_TRUE(await(c->push("room:timer", "later")).ok());
  EXPECT_TRUE(c->wait_for("room:timer", "later", wait_limit));
}

TEST_F(ChannelTest, RepeatingTimerCancelsItself) {
  auto c = connect(*srv_);
  join_ok(*c, "room:ticks");
  ASSERT_TRUE(await(c->push("room:ticks", "ticks")).ok());
  for (int n = 1; n <= 3; ++n) {
    auto tick = c->wait_for("room:ticks", "tick", wait_limit);
    ASSERT_TRUE(tick);
    EXPECT_EQ(tick->payload.at("n").as_int64(), n);
  }
  ASSERT_TRUE(c->wait_for("room:ticks", "ticks_done", wait_limit));
  ASSERT_TRUE(await(c->push("room:ticks", "count")).ok());
  EXPECT_FALSE(c->wait_for("room:ticks", "tick", std::chrono::milliseconds(0)));
}

TEST_F(ChannelTest, CrashingRoomSendsPhxErrorAndRestartsOnRejoin) {
  auto a = connect(*srv_);
  auto b = connect(*srv_);
  join_ok(*a, "room:crashy");
  auto b_join = join_ok(*b, "room:crashy");
  EXPECT_EQ(b_join.response.at("joins").as_int64(), 2);
  auto crash = a->push("room:crashy", "crash");
  for (auto* c : {a.get(), b.get()}) {
    auto err = c->wait_for("room:crashy", "phx_error", wait_limit);
    ASSERT_TRUE(err) << "every member hears that the room crashed";
  }
  // Rejoin: a fresh room (its join counter starts again), and it works.
  EXPECT_EQ(join_ok(*a, "room:crashy").response.at("joins").as_int64(), 1);
  EXPECT_EQ(join_ok(*b, "room:crashy").response.at("joins").as_int64(), 2);
  ASSERT_TRUE(await(a->push("room:crashy", "shout", json::object{{"ok", true}})).ok());
  EXPECT_TRUE(b->wait_for("room:crashy", "shout", wait_limit));
  // Other rooms and the server never noticed.
  auto c = connect(*srv_);
  join_ok(*c, "echo:after-crash");
  (void)crash;
}

TEST_F(ChannelTest, CrashInJoinIsReportedAndTheNextJoinWorks) {
  auto c = connect(*srv_);
  auto r = await(c->join("room:bad-join", json::object{{"crash", true}}));
  EXPECT_EQ(r.reason(), "join crashed");
  EXPECT_EQ(join_ok(*c, "room:bad-join").response.at("joins").as_int64(), 1);
}

TEST_F(ChannelTest, BinaryPushReplyAndBroadcast) {
  auto a = connect(*srv_);
  auto b = connect(*srv_);
  join_ok(*a, "echo:bin");
  join_ok(*b, "echo:bin");
  std::string bytes("\x00\x01\xfe\xff", 4);
  auto r = await(a->push_binary("echo:bin", "blob", bytes));
  EXPECT_TRUE(r.ok());
  ASSERT_TRUE(r.binary);
  EXPECT_EQ(*r.binary, bytes);
  auto m = b->wait_for("echo:bin", "blob", wait_limit);
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->is_binary());
  EXPECT_EQ(*m->binary, bytes);
}

TEST(ChannelLimits, TooManyChannels) {
  server_options o;
  o.max_topics_per_connection = 3;
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  for (int i = 0; i < 3; ++i) join_ok(*c, "echo:" + std::to_string(i));
  EXPECT_EQ(await(c->join("echo:3")).reason(), "too many channels");
  // Leaving one makes room for another.
  ASSERT_TRUE(await(c->leave("echo:0")).ok());
  join_ok(*c, "echo:3");
}

TEST(ChannelLimits, JoinTimeoutLeavesNoGhostMember) {
  server_options o;
  o.join_timeout = std::chrono::milliseconds(100);
  auto srv = start_test_server(o);
  auto watcher = connect(*srv);
  auto slow = connect(*srv);
  join_ok(*watcher, "room:slow");
  EXPECT_EQ(await(slow->join("room:slow", json::object{{"sleep_ms", 400}})).reason(),
            "join timeout");
  // The room accepts the join late; the connection undoes it at once.
  auto left = watcher->wait_for("room:slow", "left", wait_limit);
  ASSERT_TRUE(left);
  EXPECT_EQ(left->payload.at("why"), "left");
  EXPECT_EQ(await(watcher->push("room:slow", "count")).response.at("members").as_int64(), 1);
  // And the slow client can join again normally.
  join_ok(*slow, "room:slow");
}

TEST(ServerStart, FailureIsReportedAndHarmless) {
  server_options bad_host;
  bad_host.host = "not-an-address";
  bad_host.port = 0;
  {
    server s(bad_host);
    EXPECT_ANY_THROW(s.start());
  }  // destructor after a failed start: no crash, no hang
  auto running = start_test_server();
  server_options taken;
  taken.host = "127.0.0.1";
  taken.port = running->port();
  server clash(taken);
  EXPECT_ANY_THROW(clash.start());
  server_options too_long;
  too_long.max_topic_length = 300;
  server bad_limit(too_long);
  EXPECT_THROW(bad_limit.start(), std::invalid_argument);
}

TEST(ChannelLimits, OnConnectSetsAssignsAndCanRefuse) {
  server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  server srv(o);
  srv.on_connect([](const connect_request& req) {
    auto token = req.params.find("token");
    if (token == req.params.end() || token->second != "letmein")
      return connect_result::refuse("bad token", 403);
    return connect_result::accept("alice", boost::json::object{{"role", "admin"}});
  });
  struct whoami final : channel {
    join_result on_join(const json::value&, const member& who) override {
      return join_result::accept(
          json::object{{"user", who.user_id()}, {"role", who.assigns().at("role")}});
    }
  };
  srv.channel("me:*", [](std::string_view) { return std::make_unique<whoami>(); });
  srv.start();
  auto opts = client_options(srv);
  EXPECT_THROW(client::connect(opts), std::runtime_error);
  opts.params["token"] = "letmein";
  auto c = client::connect(opts);
  auto r = join_ok(*c, "me:x");
  EXPECT_EQ(r.response.at("user"), "alice");
  EXPECT_EQ(r.response.at("role"), "admin");
}

}  // namespace
}  // namespace roomcast::testing
