#include "actors/topic_pattern.hpp"

#include <gtest/gtest.h>

namespace roomcast::actors {
namespace {

TEST(TopicPattern, PrefixWildcard) {
  EXPECT_TRUE(topic_matches("room:*", "room:lobby"));
  EXPECT_TRUE(topic_matches("room:*", "room:"));
  EXPECT_FALSE(topic_matches("room:*", "rooms:lobby"));
  EXPECT_FALSE(topic_matches("room:*", "room"));
}

TEST(TopicPattern, ExactAndCatchAll) {
  EXPECT_TRUE(topic_matches("lobby", "lobby"));
  EXPECT_FALSE(topic_matches("lobby", "lobby2"));
  EXPECT_TRUE(topic_matches("*", "anything:at:all"));
}

TEST(TopicName, LengthAndCharacters) {
  EXPECT_TRUE(valid_topic("room:lobby", 255));
  EXPECT_TRUE(valid_topic("room:ünïcödé", 255));
  EXPECT_FALSE(valid_topic("", 255));
  EXPECT_FALSE(valid_topic(std::string(256, 'a'), 255));
  EXPECT_TRUE(valid_topic(std::string(255, 'a'), 255));
  EXPECT_FALSE(valid_topic("room:\nlobby", 255));
  EXPECT_FALSE(valid_topic(std::string("room:\0", 6), 255));
  EXPECT_FALSE(valid_topic("room:\x7f", 255));
}

}  // namespace
}  // namespace roomcast::actors
