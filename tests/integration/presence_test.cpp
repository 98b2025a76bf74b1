// Presence over real sockets: presence_state for joiners, presence_diff for
// changes, several connections per key, automatic untrack, coalescing.
#include "test_server.hpp"

#include <boost/json.hpp>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

/// Joins `topic` as `user` (meta: device) and returns the presence_state it got.
json::object join_as(client& c, const std::string& topic, const std::string& user,
                     const std::string& device) {
  join_ok(c, topic, json::object{{"user", user}, {"device", device}});
  auto state = c.wait_for(topic, "presence_state", wait_limit);
  EXPECT_TRUE(state) << "no presence_state after joining " << topic;
  return state ? state->payload.as_object() : json::object();
}

/// The next presence_diff on `topic`.
json::object next_diff(client& c, const std::string& topic) {
  auto diff = c.wait_for(topic, "presence_diff", wait_limit);
  EXPECT_TRUE(diff) << "no presence_diff on " << topic;
  return diff ? diff->payload.as_object() : json::object();
}

std::size_t metas(const json::object& presences, std::string_view key) {
  auto* p = presences.if_contains(key);
  return p ? p->at("metas").as_array().size() : 0;
}

class PresenceTest : public ::testing::Test {
 protected:
  void SetUp() override { srv_ = start_test_server(); }
  std::unique_ptr<server> srv_;
};

TEST_F(PresenceTest, JoinerGetsStateButNoDiffRepeatingIt) {
  auto alice = connect(*srv_);
  auto bob = connect(*srv_);
  join_as(*alice, "presence:own", "alice", "phone");
  join_as(*bob, "presence:own", "bob", "laptop");
  // alice hears of bob; neither hears its own join again (the state held it).
  EXPECT_EQ(metas(next_diff(*alice, "presence:own").at("joins").as_object(), "bob"), 1u);
  ASSERT_TRUE(await(bob->leave("presence:own")).ok());
  EXPECT_EQ(metas(next_diff(*alice, "presence:own").at("leaves").as_object(), "bob"), 1u);
  EXPECT_FALSE(bob->wait_for("presence:own", "presence_diff", std::chrono::milliseconds(0)));
}

TEST_F(PresenceTest, JoinerGetsStateIncludingItself) {
  auto alice = connect(*srv_);
  auto state = join_as(*alice, "presence:a", "alice", "phone");
  ASSERT_EQ(metas(state, "alice"), 1u);
  auto meta = state.at("alice").at("metas").at(0).as_object();
  EXPECT_EQ(meta.at("device"), "phone");
  EXPECT_TRUE(meta.at("phx_ref").is_string());
  EXPECT_FALSE(meta.contains("user")) << "the key is not repeated in the meta";
}

TEST_F(PresenceTest, DiffsAnnounceJoinsAndLeaves) {
  auto alice = connect(*srv_);
  auto bob = connect(*srv_);
  join_as(*alice, "presence:b", "alice", "phone");
  auto bob_state = join_as(*bob, "presence:b", "bob", "laptop");
  EXPECT_EQ(metas(bob_state, "alice"), 1u);
  EXPECT_EQ(metas(bob_state, "bob"), 1u);

  auto joined = next_diff(*alice, "presence:b");
  EXPECT_EQ(metas(joined.at("joins").as_object(), "bob"), 1u);
  EXPECT_TRUE(joined.at("leaves").as_object().empty());

  ASSERT_TRUE(await(bob->leave("presence:b")).ok());
  auto left = next_diff(*alice, "presence:b");
  EXPECT_EQ(metas(left.at("leaves").as_object(), "bob"), 1u);
  EXPECT_TRUE(left.at("joins").as_object().empty());
  EXPECT_EQ(srv_->presence_list("presence:b").size(), 1u);
}

TEST_F(PresenceTest, TwoTabsOfOneUserAreTwoMetasUnderOneKey) {
  auto tab1 = connect(*srv_);
  auto tab2 = connect(*srv_);
  join_as(*tab1, "presence:tabs", "alice", "tab1");
  auto state = join_as(*tab2, "presence:tabs", "alice", "tab2");
  EXPECT_EQ(state.size(), 1u);
  EXPECT_EQ(metas(state, "alice"), 2u);
  auto listed = srv_->presence_get("presence:tabs", "alice");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->at("metas").as_array().size(), 2u);
}

TEST_F(PresenceTest, ClosedSocketIsUntracked) {
  auto alice = connect(*srv_);
  auto bob = connect(*srv_);
  join_as(*alice, "presence:close", "alice", "phone");
  join_as(*bob, "presence:close", "bob", "laptop");
  bob->close();
  // Diffs may be coalesced: wait until one announces bob's leave.
  bool bob_left = false;
  for (int i = 0; i < 3 && !bob_left; ++i) {
    auto diff = next_diff(*alice, "presence:close");
    bob_left = metas(diff.at("leaves").as_object(), "bob") == 1;
  }
  EXPECT_TRUE(bob_left);
  EXPECT_FALSE(srv_->presence_get("presence:close", "bob"));
}

TEST_F(PresenceTest, UpdateCarriesPhxRefPrev) {
  auto alice = connect(*srv_);
  auto state = join_as(*alice, "presence:upd", "alice", "phone");
  auto first_ref = state.at("alice").at("metas").at(0).at("phx_ref");
  ASSERT_TRUE(await(alice->push("presence:upd", "update", json::object{{"status", "away"}})).ok());
  auto diff = next_diff(*alice, "presence:upd");
  auto joined = diff.at("joins").at("alice").at("metas").at(0).as_object();
  EXPECT_EQ(joined.at("status"), "away");
  EXPECT_EQ(joined.at("phx_ref_prev"), first_ref);
  EXPECT_EQ(diff.at("leaves").at("alice").at("metas").at(0).at("phx_ref"), first_ref);
}

TEST_F(PresenceTest, JoinWithoutUserIsRefused) {
  auto c = connect(*srv_);
  EXPECT_EQ(await(c->join("presence:x", json::object{{"device", "phone"}})).reason(),
            "user required");
}

TEST_F(PresenceTest, UnknownTopicHasEmptyPresence) {
  EXPECT_TRUE(srv_->presence_list("presence:nobody-here").empty());
  EXPECT_FALSE(srv_->presence_get("presence:nobody-here", "alice"));
}

TEST(PresenceCoalescing, JoinsWithinTheWindowBecomeOneDiff) {
  server_options o;
  o.presence_window = std::chrono::milliseconds(1500);
  auto srv = start_test_server(o);
  auto watcher = connect(*srv);
  join_as(*watcher, "presence:burst", "watcher", "w");
  std::vector<std::unique_ptr<client>> joiners;
  for (int i = 0; i < 5; ++i) {
    joiners.push_back(connect(*srv));
    join_as(*joiners.back(), "presence:burst", "user" + std::to_string(i), "d");
  }
  // One diff holds all five (and the watcher's own join, from the same window).
  auto diff = next_diff(*watcher, "presence:burst");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(metas(diff.at("joins").as_object(), "user" + std::to_string(i)), 1u)
        << json::serialize(diff);
}

}  // namespace
}  // namespace roomcast::testing
