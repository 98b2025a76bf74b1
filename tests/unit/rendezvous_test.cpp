// Rendezvous hashing: every node computes the same owner; topics spread over the
// nodes; a node joining or leaving moves only the topics it gains or loses.
#include "cluster/rendezvous.hpp"

#include <gtest/gtest.h>

#include <set>

#include <map>
#include <string>
#include <vector>

namespace roomcast::cluster {
namespace {

std::vector<std::string> topics(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("room:" + std::to_string(i));
  return out;
}

TEST(Rendezvous, SameInputsSameOwnerWhateverTheOrder) {
  std::vector<std::string> a{"10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"};
  std::vector<std::string> b{"10.0.0.3:7000", "10.0.0.1:7000", "10.0.0.2:7000"};
  for (const auto& t : topics(200)) EXPECT_EQ(owner_of(t, a), owner_of(t, b)) << t;
  EXPECT_FALSE(owner_of("room:x", {}));
  EXPECT_EQ(owner_of("room:x", {"only:1"}), "only:1");
  // The separator: ("ab", "c") and ("a", "bc") weigh differently.
  EXPECT_NE(rendezvous_weight("ab", "c"), rendezvous_weight("a", "bc"));
}

TEST(Rendezvous, TopicsSpreadOverTheNodes) {
  std::vector<std::string> nodes{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  std::map<std::string, int> count;
  for (const auto& t : topics(3000)) ++count[*owner_of(t, nodes)];
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [node, n] : count) {
    EXPECT_GT(n, 850) << node;  // a third is 1000
    EXPECT_LT(n, 1150) << node;
  }
}

TEST(Rendezvous, AJoiningNodeTakesOnlyTopicsForItself) {
  std::vector<std::string> three{"n1:1", "n2:1", "n3:1"};
  auto four = three;
  four.push_back("n4:1");
  int moved = 0;
  for (const auto& t : topics(2000)) {
    auto before = *owner_of(t, three);
    auto after = *owner_of(t, four);
    if (before != after) {
      EXPECT_EQ(after, "n4:1") << t;  // nothing moves between the old nodes
      ++moved;
    }
  }
  EXPECT_GT(moved, 400);  // about a quarter
  EXPECT_LT(moved, 600);
}

TEST(Rendezvous, ALeavingNodesTopicsAreTheOnlyOnesThatMove) {
  std::vector<std::string> three{"n1:1", "n2:1", "n3:1"};
  std::vector<std::string> two{"n1:1", "n3:1"};
  for (const auto& t : topics(2000)) {
    auto before = *owner_of(t, three);
    if (before != "n2:1") {
      EXPECT_EQ(*owner_of(t, two), before) << t;
    }
  }
}

}  // namespace
}  // namespace roomcast::cluster

namespace roomcast::cluster {
namespace {

TEST(Placement, ServiceNodesOwnTheirPatternsAndNothingElse) {
  std::vector<placement_member> members{{"a:1", {}}, {"b:1", {}}, {"svc:1", {"svc:*"}}, {"svc:2", {"svc:*"}}};
  std::set<std::string> service_owners;
  for (int i = 0; i < 50; ++i) {
    auto topic = "svc:" + std::to_string(i);
    auto owner = place(topic, members);
    ASSERT_TRUE(owner);
    service_owners.insert(*owner);
    auto general = place("room:" + std::to_string(i), members);
    ASSERT_TRUE(general);
    EXPECT_TRUE(*general == "a:1" || *general == "b:1") << *general;
  }
  EXPECT_EQ(service_owners, (std::set<std::string>{"svc:1", "svc:2"})) << "spread over both services";
}

TEST(Placement, ARemoteOnlyTopicWithoutItsServiceHasNoOwner) {
  std::vector<placement_member> general{{"a:1", {}}, {"b:1", {}}};
  EXPECT_FALSE(place("svc:1", general, true));
  EXPECT_TRUE(place("svc:1", general, false)) << "an ordinary topic falls back to the general nodes";
  EXPECT_FALSE(place("room:1", {{"svc:1", {"svc:*"}}})) << "a service node takes no general topic";
}

}  // namespace
}  // namespace roomcast::cluster
