// The Origin allow-list matcher.
#include "auth/origin.hpp"
#include "auth/api_keys.hpp"

#include <gtest/gtest.h>

namespace roomcast::auth {
namespace {

TEST(OriginAllowList, ExactOriginsIncludingThePort) {
  std::vector<std::string> allowed = {"https://chat.example.com", "http://localhost:4000"};
  EXPECT_TRUE(origin_allowed("https://chat.example.com", allowed));
  EXPECT_TRUE(origin_allowed("HTTPS://Chat.Example.COM", allowed)) << "case-insensitive";
  EXPECT_TRUE(origin_allowed("http://localhost:4000", allowed));
  EXPECT_FALSE(origin_allowed("http://localhost:4001", allowed));
  EXPECT_FALSE(origin_allowed("http://chat.example.com", allowed)) << "another scheme";
  EXPECT_FALSE(origin_allowed("https://chat.example.com.evil.net", allowed));
  EXPECT_FALSE(origin_allowed("null", allowed));
}

TEST(OriginAllowList, WildcardMatchesSubdomainsOnly) {
  std::vector<std::string> allowed = {"https://*.example.com"};
  EXPECT_TRUE(origin_allowed("https://a.example.com", allowed));
  EXPECT_TRUE(origin_allowed("https://a.b.example.com", allowed));
  EXPECT_FALSE(origin_allowed("https://example.com", allowed));
  EXPECT_FALSE(origin_allowed("https://evilexample.com", allowed));
  EXPECT_FALSE(origin_allowed("https://user@x.example.com", allowed));
  EXPECT_FALSE(origin_allowed("https://x.example.com:8443", allowed)) << "the port is part of it";
  EXPECT_FALSE(origin_allowed("http://a.example.com", allowed));
}

TEST(ApiKeys, ConstantTimeEqualityAndBearerParsing) {
  EXPECT_TRUE(constant_time_equal("secret", "secret"));
  EXPECT_FALSE(constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(constant_time_equal("", ""));
  std::vector<std::string> keys = {"k1", "k2"};
  EXPECT_EQ(check_api_key({{"authorization", "Bearer k2"}}, keys), api_auth::ok);
  EXPECT_EQ(check_api_key({{"authorization", "BEARER k1"}}, keys), api_auth::ok);
  EXPECT_EQ(check_api_key({{"authorization", "Bearer k3"}}, keys), api_auth::wrong);
  EXPECT_EQ(check_api_key({{"authorization", "Basic azE="}}, keys), api_auth::missing);
  EXPECT_EQ(check_api_key({}, keys), api_auth::missing);
  EXPECT_EQ(check_api_key({{"authorization", "Bearer k1"}}, {}), api_auth::none_configured);
}

}  // namespace
}  // namespace roomcast::auth
