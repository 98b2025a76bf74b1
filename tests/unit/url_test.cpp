#include "net/url.hpp"

#include <gtest/gtest.h>

namespace roomcast::net {
namespace {

TEST(Url, SplitsPathAndQuery) {
  auto t = parse_target("/socket/websocket?vsn=2.0.0&token=a%2Bb%20c");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/socket/websocket");
  EXPECT_EQ(t->query.at("vsn"), "2.0.0");
  EXPECT_EQ(t->query.at("token"), "a+b c");
}

TEST(Url, PlusIsSpaceInQueryOnly) {
  auto t = parse_target("/a+b?x=1+2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a+b");
  EXPECT_EQ(t->query.at("x"), "1 2");
}

TEST(Url, EmptyAndValuelessParameters) {
  auto t = parse_target("/p?&a&b=&=c");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->query.at("a"), "");
  EXPECT_EQ(t->query.at("b"), "");
  EXPECT_EQ(t->query.at(""), "c");
}

TEST(Url, MalformedEscapes) {
  EXPECT_FALSE(parse_target("/p?x=%"));
  EXPECT_FALSE(parse_target("/p?x=%4"));
  EXPECT_FALSE(parse_target("/p?x=%zz"));
  EXPECT_FALSE(parse_target("/%G0"));
  EXPECT_EQ(percent_decode("%41%62", false), "Ab");
}

}  // namespace
}  // namespace roomcast::net
