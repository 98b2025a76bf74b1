// The gateway's pure parts: backend URLs and what a backend may answer.
#include "gateway/backend_answer.hpp"
#include "gateway/backend_url.hpp"

#include <gtest/gtest.h>

namespace roomcast::gateway {
namespace {

TEST(BackendUrl, SplitsHostPortAndBase) {
  auto u = parse_backend_url("http://127.0.0.1:9000/roomcast/");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->base, "/roomcast");
  auto plain = parse_backend_url("http://backend");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->base, "");
  auto v6 = parse_backend_url("http://[::1]:81/x");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 81);
}

TEST(BackendUrl, RefusesWhatItCannotCall) {
  for (const char* bad : {"https://a:1/x", "ftp://a", "http://", "http://a:0/x", "http://a:70000",
                          "http://a:12x/y", "http://a/x?y=1", "a:1/x"})
    EXPECT_FALSE(parse_backend_url(bad)) << bad;
}

TEST(BackendAnswer, ReadsStatusResponseAndInstructions) {
  auto parsed = parse_answer(
      R"({"status":"ok","response":{"a":1},"instructions":[{"broadcast":{"event":"e","payload":{"x":1}}},{"push":{"user_id":"bob","event":"p"}}]})",
      false);
  ASSERT_TRUE(std::holds_alternative<backend_answer>(parsed)) << std::get<std::string>(parsed);
  auto& a = std::get<backend_answer>(parsed);
  EXPECT_EQ(a.what, backend_answer::status::ok);
  EXPECT_EQ(a.response.at("a").as_int64(), 1);
  ASSERT_EQ(a.instructions.size(), 2u);
  EXPECT_EQ(a.instructions[0].what, instruction::kind::broadcast);
  EXPECT_EQ(a.instructions[1].user_id, "bob");
  EXPECT_TRUE(a.instructions[1].payload.is_object()) << "a missing payload is {}";
}

TEST(BackendAnswer, RefusesEverythingElse) {
  for (const char* bad : {"", "not json", "[]", R"({"status":1})", R"({"status":"maybe"})",
                          R"({"status":"ok","response":[1]})", R"({"status":"ok","instructions":{}})",
                          R"({"status":"ok","instructions":[{"shout":{}}]})",
                          R"({"status":"ok","instructions":[{"broadcast":{"event":"phx_reply"}}]})",
                          R"({"status":"ok","instructions":[{"push":{"event":"e"}}]})"})
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_answer(bad, false))) << bad;
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_answer(R"({"status":"noreply"})", true)))
      << "a join cannot go unanswered";
  EXPECT_TRUE(std::holds_alternative<backend_answer>(parse_answer(R"({"status":"noreply"})", false)));
}

TEST(ConnectAnswer, AcceptsOrRefusesWithAStatus) {
  auto ok = parse_connect_answer(R"({"status":"ok","user_id":"u1","assigns":{"role":"x"}})");
  ASSERT_TRUE(std::holds_alternative<connect_answer>(ok));
  EXPECT_TRUE(std::get<connect_answer>(ok).accepted);
  EXPECT_EQ(std::get<connect_answer>(ok).user_id, "u1");
  auto no = parse_connect_answer(R"({"status":"error","reason":"banned","http_status":401})");
  ASSERT_TRUE(std::holds_alternative<connect_answer>(no));
  EXPECT_FALSE(std::get<connect_answer>(no).accepted);
  EXPECT_EQ(std::get<connect_answer>(no).http_status, 401u);
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_connect_answer(R"({"status":"error","http_status":200})")));
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_connect_answer(R"({"status":"ok","assigns":3})")));
}

TEST(FailureReason, NamesEachOutcome) {
  call_result r;
  r.what = call_result::outcome::timeout;
  EXPECT_EQ(failure_reason(r), backend_timeout);
  r.what = call_result::outcome::unavailable;
  EXPECT_EQ(failure_reason(r), backend_unavailable);
  r.what = call_result::outcome::busy;
  EXPECT_EQ(failure_reason(r), backend_unavailable);
  r.what = call_result::outcome::bad_status;
  EXPECT_EQ(failure_reason(r), backend_error);
}

}  // namespace
}  // namespace roomcast::gateway
