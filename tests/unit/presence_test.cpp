// The presence table and diff accumulator: Phoenix's shapes, pure logic.
#include "presence/presence_table.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace roomcast::presence {
namespace {

json::array metas_of(const json::object& presences, std::string_view key) {
  return presences.at(key).at("metas").as_array();
}

TEST(PresenceTable, TrackAddsAMetaWithPhxRef) {
  table t;
  auto c = t.track("alice", 1, json::object{{"device", "phone"}}, "r1");
  ASSERT_EQ(c.joins.size(), 1u);
  EXPECT_TRUE(c.leaves.empty());
  auto list = t.list();
  ASSERT_EQ(list.size(), 1u);
  auto metas = metas_of(list, "alice");
  ASSERT_EQ(metas.size(), 1u);
  EXPECT_EQ(metas[0].at("device"), "phone");
  EXPECT_EQ(metas[0].at("phx_ref"), "r1");
}

TEST(PresenceTable, SeveralConnectionsShareAKey) {
  table t;
  t.track("alice", 1, {{"device", "phone"}}, "r1");
  t.track("alice", 2, {{"device", "laptop"}}, "r2");
  t.track("bob", 3, {}, "r3");
  EXPECT_EQ(t.key_count(), 2u);
  EXPECT_EQ(t.meta_count(), 3u);
  auto metas = metas_of(t.list(), "alice");
  ASSERT_EQ(metas.size(), 2u);
  EXPECT_EQ(metas[0].at("phx_ref"), "r1");  // tracking order
  EXPECT_EQ(metas[1].at("phx_ref"), "r2");
}

TEST(PresenceTable, UpdateReplacesTheMetaAndPointsBack) {
  table t;
  t.track("alice", 1, {{"status", "away"}}, "r1");
  auto c = t.update("alice", 1, {{"status", "busy"}}, "r2");
  ASSERT_EQ(c.leaves.size(), 1u);
  ASSERT_EQ(c.joins.size(), 1u);
  EXPECT_EQ(c.leaves[0].meta.at("phx_ref"), "r1");
  EXPECT_EQ(c.joins[0].meta.at("phx_ref"), "r2");
  EXPECT_EQ(c.joins[0].meta.at("phx_ref_prev"), "r1");
  auto metas = metas_of(t.list(), "alice");
  ASSERT_EQ(metas.size(), 1u);
  EXPECT_EQ(metas[0].at("status"), "busy");
  EXPECT_TRUE(t.update("alice", 99, {}, "r3").empty()) << "an owner with nothing tracked";
}

TEST(PresenceTable, UntrackOwnerRemovesItsMetasAndEmptyKeys) {
  table t;
  t.track("alice", 1, {}, "r1");
  t.track("alice", 2, {}, "r2");
  auto c = t.untrack_owner(1);
  ASSERT_EQ(c.leaves.size(), 1u);
  EXPECT_EQ(c.leaves[0].phx_ref, "r1");
  EXPECT_EQ(metas_of(t.list(), "alice").size(), 1u);
  t.untrack_owner(2);
  EXPECT_EQ(t.key_count(), 0u);
  EXPECT_FALSE(t.get("alice"));
  EXPECT_TRUE(t.untrack_owner(2).empty());
}

TEST(PresenceTable, UntrackOneKey) {
  table t;
  t.track("alice", 1, {}, "r1");
  t.track("bob", 1, {}, "r2");
  auto c = t.untrack("alice", 1);
  ASSERT_EQ(c.leaves.size(), 1u);
  EXPECT_FALSE(t.get("alice"));
  EXPECT_TRUE(t.get("bob"));
}

TEST(PresenceTable, GetOneKey) {
  table t;
  t.track("alice", 1, {{"x", 1}}, "r1");
  auto alice = t.get("alice");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->at("metas").as_array().size(), 1u);
  EXPECT_FALSE(t.get("nobody"));
}

TEST(PresenceDiff, PhoenixShape) {
  table t;
  diff_accumulator d;
  d.add(t.track("alice", 1, {{"device", "phone"}}, "r1"));
  d.add(t.track("bob", 2, {}, "r2"));
  d.add(t.untrack_owner(2));  // bob joined and left within the window: not shown
  t.track("carol", 3, {}, "r3");
  d.add(t.untrack_owner(3));  // carol was published earlier: a real leave
  auto diff = d.take();
  EXPECT_EQ(diff.at("joins").as_object().size(), 1u);
  EXPECT_EQ(metas_of(diff.at("joins").as_object(), "alice")[0].at("device"), "phone");
  EXPECT_EQ(diff.at("leaves").as_object().size(), 1u);
  EXPECT_TRUE(diff.at("leaves").as_object().contains("carol"));
  EXPECT_TRUE(d.empty());
  auto next = d.take();
  EXPECT_TRUE(next.at("joins").as_object().empty());
  EXPECT_TRUE(next.at("leaves").as_object().empty());
}

TEST(PresenceDiff, AJoinCancelledByItsLeaveLeavesNothingToSend) {
  table t;
  diff_accumulator d;
  d.add(t.track("alice", 1, {}, "r1"));
  d.add(t.untrack_owner(1));
  EXPECT_TRUE(d.empty());
}

TEST(PresenceDiff, UpdateOfAPendingJoinShowsOnlyTheNewMeta) {
  table t;
  diff_accumulator d;
  d.add(t.track("alice", 1, {{"s", 1}}, "r1"));
  d.add(t.update("alice", 1, {{"s", 2}}, "r2"));
  auto diff = d.take();
  auto joins = metas_of(diff.at("joins").as_object(), "alice");
  ASSERT_EQ(joins.size(), 1u);
  EXPECT_EQ(joins[0].at("phx_ref"), "r2");
  EXPECT_TRUE(diff.at("leaves").as_object().empty());
}

TEST(PresenceDiff, ManyJoinsBecomeOneDiff) {
  table t;
  diff_accumulator d;
  for (std::uint64_t i = 0; i < 1000; ++i)
    d.add(t.track("user" + std::to_string(i % 100), i, {}, "r" + std::to_string(i)));
  auto diff = d.take();
  EXPECT_EQ(diff.at("joins").as_object().size(), 100u);
  EXPECT_EQ(metas_of(diff.at("joins").as_object(), "user7").size(), 10u);
}

}  // namespace
}  // namespace roomcast::presence
