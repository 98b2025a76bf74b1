// Topics across a cluster of real processes (build/bin/roomcast on loopback):
// each topic's room runs on its owner, other nodes relay. Clients on every node
// see every broadcast exactly once and the same presence; a killed node's
// members leave within 3 s; a restarted node serves again; a fourth node takes
// over its topics while the clients stay joined; the HTTP API reaches every node.
#include "cluster/cluster_nodes.hpp"
#include "integration/test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>

#include <map>
#include <set>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string auth_header = std::string("Authorization: Bearer ") + cluster_api_key + "\r\n";

/// Every "msg" a client got on `topic` before its "end": their "from" fields,
/// duplicates kept. Waits for "end" (so everything before it has arrived).
std::multiset<std::int64_t> messages_until_end(client& c, const std::string& topic) {
  std::multiset<std::int64_t> seen;
  if (!c.wait_for(topic, "end", wait_limit)) {
    ADD_FAILURE() << "no end on " << topic;
    return seen;
  }
  while (auto m = c.wait_for(topic, "msg", 0ms)) seen.insert(m->payload.at("from").to_number<std::int64_t>());
  return seen;
}

/// A topic named `prefix`N whose owner (as `asked` sees it) is `owner`.
std::string topic_owned_by(const node& asked, const std::string& owner, const std::string& prefix) {
  for (int i = 0; i < 200; ++i) {
    auto topic = prefix + std::to_string(i);
    if (asked.owner(topic) == owner) return topic;
  }
  ADD_FAILURE() << "no topic of " << owner;
  return prefix;
}

/// The keys of a presence_state or of GET .../presence.
std::set<std::string> keys_of(const json::value& presences) {
  std::set<std::string> out;
  if (const auto* o = presences.if_object())
    for (const auto& [key, value] : *o) out.insert(std::string(key));
  return out;
}

std::set<std::string> http_presence(const node& n, const std::string& topic) {
  auto res = http_get(n.http_port, "/api/topics/" + topic + "/presence", auth_header);
  if (res.status != 200) return {"<status " + std::to_string(res.status) + ">"};
  return keys_of(json::parse(res.body).at("presences"));
}

/// Members of `topic`'s room on node `n` (0 when it has no room there).
std::uint64_t room_members(const node& n, const std::string& topic) {
  auto res = http_get(n.http_port, "/api/topics", auth_header);
  if (res.status != 200) return 0;
  auto body = json::parse(res.body);
  for (const auto& t : body.at("topics").as_array())
    if (t.at("topic").as_string() == topic) return t.at("members").to_number<std::uint64_t>();
  return 0;
}

struct relayed : ::testing::Test {
  std::vector<node> nodes;
  void SetUp() override { nodes = start_cluster(3); }
};

TEST_F(relayed, BroadcastsReachEveryClientOnEveryNodeExactlyOnce) {
  std::vector<std::unique_ptr<client>> clients;  // two per node
  for (const auto& n : nodes)
    for (int i = 0; i < 2; ++i) clients.push_back(n.connect());
  std::set<std::string> owners;
  for (int t = 0; t < 6; ++t) {
    auto topic = "echo:t" + std::to_string(t);
    owners.insert(nodes[0].owner(topic));
    for (auto& c : clients) join_ok(*c, topic);
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto r = await(clients[i]->push(topic, "msg", json::object{{"from", i}}));
      ASSERT_EQ(r.status, "ok") << json::serialize(r.response);
    }
    await(clients[0]->push(topic, "end", json::object{}));
    std::multiset<std::int64_t> expected;
    for (std::size_t i = 0; i < clients.size(); ++i) expected.insert(static_cast<std::int64_t>(i));
    for (std::size_t i = 0; i < clients.size(); ++i)
      EXPECT_EQ(messages_until_end(*clients[i], topic), expected) << topic << " client " << i;
  }
  EXPECT_GE(owners.size(), 2u) << "six topics should spread over the nodes";
}

TEST_F(relayed, PresenceIsTheSameOnEveryNode) {
  const std::string topic = "presence:lobby";
  std::vector<std::unique_ptr<client>> users;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    users.push_back(nodes[i].connect());
    join_ok(*users.back(), topic, json::object{{"user", "u" + std::to_string(i)}});
  }
  std::set<std::string> all{"u0", "u1", "u2"};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    // A newcomer on each node gets the whole cluster's list.
    auto observer = nodes[i].connect();
    join_ok(*observer, topic, json::object{{"user", "observer"}});
    auto state = observer->wait_for(topic, "presence_state", wait_limit);
    ASSERT_TRUE(state) << "node " << i;
    auto keys = keys_of(state->payload);
    keys.erase("observer");
    EXPECT_EQ(keys, all) << "node " << i << ": " << json::serialize(state->payload);
    observer->close();
  }
  auto expected = all;
  EXPECT_TRUE(within(5s, [&] {
    return http_presence(nodes[0], topic) == expected && http_presence(nodes[1], topic) == expected &&
           http_presence(nodes[2], topic) == expected;
  })) << *http_presence(nodes[1], topic).begin();
}

TEST_F(relayed, AKilledNodesMembersLeaveWithinThreeSecondsAndTrafficGoesOn) {
  auto& a = nodes[0];
  auto& b = nodes[1];
  auto& c = nodes[2];
  auto presence_topic = topic_owned_by(a, a.name, "presence:k");
  auto echo_topic = topic_owned_by(a, b.name, "echo:k");
  auto on_b = b.connect();
  auto on_c = c.connect();
  auto on_a = a.connect();
  join_ok(*on_b, presence_topic, json::object{{"user", "ub"}});
  join_ok(*on_c, presence_topic, json::object{{"user", "uc"}});
  ASSERT_TRUE(within(3s, [&] { return http_presence(b, presence_topic) == std::set<std::string>{"ub", "uc"}; }));
  join_ok(*on_a, echo_topic);
  join_ok(*on_b, echo_topic);
  while (on_b->wait_for(presence_topic, "presence_diff", 0ms)) {
  }

  ASSERT_EQ(::kill(c.proc->pid, SIGKILL), 0);
  auto killed = std::chrono::steady_clock::now();
  bool left = false;
  while (!left && std::chrono::steady_clock::now() - killed < 5s) {
    auto diff = on_b->wait_for(presence_topic, "presence_diff", 500ms);
    if (diff) left = diff->payload.at("leaves").as_object().contains("uc");
  }
  auto took = std::chrono::steady_clock::now() - killed;
  ASSERT_TRUE(left) << "uc never left";
  EXPECT_LE(took, 3s);
  EXPECT_EQ(http_presence(a, presence_topic), std::set<std::string>{"ub"});

  // Topics of the living nodes carry on.
  await(on_a->push(echo_topic, "msg", json::object{{"from", 1}}));
  await(on_a->push(echo_topic, "end", json::object{}));
  EXPECT_EQ(messages_until_end(*on_b, echo_topic), std::multiset<std::int64_t>{1});
}

TEST_F(relayed, AHungNodesMembersLeaveAndJoinAgainWhenItWakes) {
  auto& a = nodes[0];
  auto& b = nodes[1];
  auto& c = nodes[2];
  auto topic = topic_owned_by(a, a.name, "presence:z");
  auto on_b = b.connect();
  auto on_c = c.connect();
  join_ok(*on_b, topic, json::object{{"user", "ub"}});
  join_ok(*on_c, topic, json::object{{"user", "uc"}});
  ASSERT_TRUE(within(3s, [&] { return http_presence(a, topic) == std::set<std::string>{"ub", "uc"}; }));
  ASSERT_EQ(::kill(c.proc->pid, SIGSTOP), 0);
  // Heartbeat 0.5 s + failure timeout 2.5 s: "uc" leaves after about 3 s.
  auto left = within(6s, [&] { return http_presence(a, topic) == std::set<std::string>{"ub"}; });
  ASSERT_EQ(::kill(c.proc->pid, SIGCONT), 0);
  ASSERT_TRUE(left) << "a hung node's member stayed";
  // Awake, C's client is joined again (silently, or phoenix.js-style after phx_error).
  auto back = within(10s, [&] {
    if (on_c->wait_for(topic, "phx_error", 0ms)) on_c->join(topic, json::object{{"user", "uc"}});
    return http_presence(a, topic) == std::set<std::string>{"ub", "uc"};
  });
  EXPECT_TRUE(back) << "C's member did not come back";
  auto r = await(on_c->push(topic, "update", json::object{{"awake", true}}));
  EXPECT_EQ(r.status, "ok") << json::serialize(r.response);
}

TEST(Relay, ATopicOfAKilledNodeIsServedByAnotherAfterARejoin) {
  auto nodes = start_cluster(3);
  auto& a = nodes[0];
  auto& c = nodes[2];
  auto topic = topic_owned_by(a, c.name, "echo:d");
  auto on_a = a.connect();
  auto on_b = nodes[1].connect();
  join_ok(*on_a, topic);
  join_ok(*on_b, topic);
  ASSERT_EQ(::kill(c.proc->pid, SIGKILL), 0);
  // The clients hear of the crash (phx_error) or were moved without a word;
  // either way a join (phoenix.js rejoins by itself) lands on a live owner.
  ASSERT_TRUE(within(5s, [&] { return a.owner(topic) != c.name && nodes[1].owner(topic) != c.name; }));
  for (auto* cl : {on_a.get(), on_b.get()}) {
    auto rejoined = within(5s, [&] {
      auto r = cl->join(topic).get();
      return r.status == "ok";
    });
    ASSERT_TRUE(rejoined);
  }
  await(on_b->push(topic, "msg", json::object{{"from", 2}}));
  await(on_b->push(topic, "end", json::object{}));
  EXPECT_EQ(messages_until_end(*on_a, topic), std::multiset<std::int64_t>{2});
}

TEST(Relay, ARestartedNodeRejoinsAndItsClientsShareTopicsAgain) {
  auto a = start_node({});
  auto b = start_node({a.name});
  auto port = free_port();
  auto c = start_node({a.name}, port);
  ASSERT_TRUE(within(5s, [&] { return a.members() == names({&a, &b, &c}); }));
  auto presence_topic = topic_owned_by(a, a.name, "presence:r");
  {
    auto old_client = c.connect();
    join_ok(*old_client, presence_topic, json::object{{"user", "zombie"}});
    ASSERT_TRUE(within(3s, [&] { return http_presence(a, presence_topic).count("zombie") == 1; }));
    ASSERT_EQ(::kill(c.proc->pid, SIGKILL), 0);
    c.proc->wait_exit(5s);
  }
  ASSERT_TRUE(within(3s, [&] { return http_presence(a, presence_topic).empty(); }));
  auto again = start_node({a.name}, port);
  ASSERT_TRUE(within(5s, [&] {
    return a.members() == names({&a, &b, &again}) && again.members() == names({&a, &b, &again});
  }));
  auto on_c = again.connect();
  auto on_a = a.connect();
  join_ok(*on_c, presence_topic, json::object{{"user", "fresh"}});
  join_ok(*on_a, presence_topic, json::object{{"user", "ua"}});
  EXPECT_TRUE(within(3s, [&] {
    return http_presence(b, presence_topic) == std::set<std::string>{"fresh", "ua"};
  }));
  auto echo_topic = topic_owned_by(a, b.name, "echo:r");
  join_ok(*on_c, echo_topic);
  join_ok(*on_a, echo_topic);
  await(on_c->push(echo_topic, "msg", json::object{{"from", 3}}));
  await(on_c->push(echo_topic, "end", json::object{}));
  EXPECT_EQ(messages_until_end(*on_a, echo_topic), std::multiset<std::int64_t>{3});
}

TEST_F(relayed, AFourthNodeTakesOverItsTopicsWhileClientsStayJoined) {
  std::vector<std::unique_ptr<client>> clients;
  for (const auto& n : nodes) clients.push_back(n.connect());
  std::vector<std::string> topics;
  for (int t = 0; t < 40; ++t) topics.push_back("echo:m" + std::to_string(t));
  for (const auto& topic : topics)
    for (auto& c : clients) join_ok(*c, topic);
  const std::string presence_topic = "presence:moving";  // checked wherever it ends up
  for (std::size_t i = 0; i < clients.size(); ++i)
    join_ok(*clients[i], presence_topic, json::object{{"user", "u" + std::to_string(i)}});

  auto d = start_node({nodes[0].name});
  auto all = names({&nodes[0], &nodes[1], &nodes[2], &d});
  for (const node* n : {&nodes[0], &nodes[1], &nodes[2], &d})
    ASSERT_TRUE(within(5s, [&] { return n->members() == all; }));
  std::vector<std::string> moved;
  for (const auto& topic : topics)
    if (d.owner(topic) == d.name) moved.push_back(topic);
  ASSERT_FALSE(moved.empty()) << "40 topics and none moved to the fourth node";
  // Every member of a moved topic joined D's room again, by itself.
  for (const auto& topic : moved)
    ASSERT_TRUE(within(5s, [&] { return room_members(d, topic) == clients.size(); }))
        << topic << " has " << room_members(d, topic) << " members on its new owner; logs: "
        << nodes[0].proc->drain_stderr() << nodes[1].proc->drain_stderr()
        << nodes[2].proc->drain_stderr() << d.proc->drain_stderr();
  for (const auto& topic : moved) {
    for (std::size_t i = 0; i < clients.size(); ++i) {
      auto r = await(clients[i]->push(topic, "msg", json::object{{"from", i}}));
      ASSERT_EQ(r.status, "ok") << topic;
    }
    await(clients[0]->push(topic, "end", json::object{}));
    for (auto& c : clients) EXPECT_EQ(messages_until_end(*c, topic), (std::multiset<std::int64_t>{0, 1, 2}));
  }
  for (auto& c : clients)
    for (const auto& topic : topics) {
      EXPECT_FALSE(c->wait_for(topic, "phx_error", 0ms)) << topic;
      EXPECT_FALSE(c->wait_for(topic, "phx_close", 0ms)) << topic;
    }
  std::set<std::string> users{"u0", "u1", "u2"};
  EXPECT_TRUE(within(5s, [&] { return http_presence(d, presence_topic) == users; }));
  EXPECT_EQ(http_presence(nodes[1], presence_topic), users);
}

TEST_F(relayed, AnHttpBroadcastOnAnyNodeReachesMembersOnEveryNode) {
  auto topic = topic_owned_by(nodes[0], nodes[0].name, "echo:h");
  std::vector<std::unique_ptr<client>> clients;
  for (const auto& n : nodes) {
    clients.push_back(n.connect());
    join_ok(*clients.back(), topic);
  }
  for (std::size_t via = 0; via < nodes.size(); ++via) {
    json::object body{{"topic", topic}, {"event", "msg"}, {"payload", json::object{{"from", via}}}};
    auto res = http_post(nodes[via].http_port, "/api/broadcast", json::serialize(body), auth_header);
    ASSERT_EQ(res.status, 200) << res.body;
    EXPECT_EQ(json::parse(res.body).at("members").to_number<int>(), 3) << res.body;
  }
  json::object end{{"topic", topic}, {"event", "end"}, {"payload", json::object{}}};
  ASSERT_EQ(http_post(nodes[2].http_port, "/api/broadcast", json::serialize(end), auth_header).status, 200);
  for (auto& c : clients) EXPECT_EQ(messages_until_end(*c, topic), (std::multiset<std::int64_t>{0, 1, 2}));
}

}  // namespace
}  // namespace roomcast::testing
