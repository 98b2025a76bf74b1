// Declarative join authorization by claims.
#include "auth/topic_rules.hpp"

#include <gtest/gtest.h>

namespace roomcast::auth {
namespace {

namespace json = boost::json;

std::vector<topic_rule> rules(std::initializer_list<const char*> texts) {
  std::vector<topic_rule> out;
  for (const char* t : texts) {
    auto r = parse_topic_rule(t);
    EXPECT_TRUE(r) << t;
    if (r) out.push_back(*r);
  }
  return out;
}

TEST(TopicRules, ParsesPatternsAndConditions) {
  auto r = parse_topic_rule("  admin:* role=admin ");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->pattern, "admin:*");
  EXPECT_EQ(r->claim, "role");
  EXPECT_EQ(r->value, "admin");
  EXPECT_TRUE(parse_topic_rule("user:{sub}"));
  for (const char* bad : {"", "room:* role", "room:* =x", "room:* role=", "a:{sub", "a:}x{",
                          "a:{{sub}}", "room:* a=b c=d"})
    EXPECT_FALSE(parse_topic_rule(bad)) << bad;
}

TEST(TopicRules, NoRulesAllowEverything) {
  EXPECT_TRUE(join_allowed({}, "anything:at-all", {}));
}

TEST(TopicRules, PrivateTopicsOnlyForTheirUser) {
  auto r = rules({"room:*", "user:{sub}"});
  json::object alice{{"sub", "alice"}};
  EXPECT_TRUE(join_allowed(r, "room:lobby", alice));
  EXPECT_TRUE(join_allowed(r, "user:alice", alice));
  EXPECT_FALSE(join_allowed(r, "user:bob", alice));
  EXPECT_FALSE(join_allowed(r, "user:alice", {})) << "no sub claim";
  EXPECT_FALSE(join_allowed(r, "other:x", alice)) << "no rule for it";
  EXPECT_FALSE(join_allowed(r, "user:*", json::object{{"sub", "*"}})) << "a claim is not a pattern";
  EXPECT_FALSE(join_allowed(rules({"org:{org}:*"}), "org:user:bob:x", json::object{{"org", "user:bob"}}))
      << "a claim is one segment: ':' cannot reach another topic";
  EXPECT_TRUE(join_allowed(rules({"team:{team}:chat"}), "team:42:chat", json::object{{"team", 42}}));
}

TEST(TopicRules, ClaimConditions) {
  auto r = rules({"admin:* role=admin"});
  EXPECT_TRUE(join_allowed(r, "admin:ops", json::object{{"role", "admin"}}));
  EXPECT_TRUE(join_allowed(r, "admin:ops", json::object{{"role", json::array{"user", "admin"}}}));
  EXPECT_FALSE(join_allowed(r, "admin:ops", json::object{{"role", "user"}}));
  EXPECT_FALSE(join_allowed(r, "admin:ops", {}));
}

}  // namespace
}  // namespace roomcast::auth
