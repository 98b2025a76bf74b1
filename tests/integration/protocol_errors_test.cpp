// Bad input over real sockets: every malformed frame gets an error reply and the
// connection (and everything else) keeps working.
#include "test_server.hpp"

#include <boost/json.hpp>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

class ProtocolErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_options o;
    o.max_frame_bytes = 4096;
    srv_ = start_test_server(o);
    c_ = connect(*srv_);
  }

  /// The next error reply, which must carry `reason`.
  message expect_error(std::string_view reason) {
    auto m = c_->next_message(wait_limit);
    EXPECT_TRUE(m) << "no error reply for the bad frame";
    if (!m) return {};
    EXPECT_EQ(m->event, "phx_reply");
    EXPECT_EQ(m->payload.at("status"), "error");
    EXPECT_EQ(m->payload.at("response").at("reason"), json::value(json::string(reason)))
        << json::serialize(m->payload);
    return *m;
  }

  void expect_still_alive() {
    auto hb = await(c_->heartbeat());
    EXPECT_TRUE(hb.ok());
    EXPECT_TRUE(c_->is_open());
  }

  std::unique_ptr<server> srv_;
  std::unique_ptr<client> c_;
};

TEST_F(ProtocolErrorsTest, HeartbeatIsAnsweredOk) {
  auto r = await(c_->heartbeat());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.raw.topic, "phoenix");
  EXPECT_FALSE(r.raw.join_ref.has_value());
}

TEST_F(ProtocolErrorsTest, UnmatchedTopic) {
  EXPECT_EQ(await(c_->join("nope:x")).reason(), "unmatched topic");
  EXPECT_EQ(await(c_->push("echo:not-joined", "ping")).reason(), "unmatched topic");
  EXPECT_TRUE(await(c_->leave("echo:not-joined")).ok()) << "like Phoenix: nothing to leave";
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, UnknownEventOnPhoenixTopic) {
  c_->send_text(R"([null,"9","phoenix","bogus",{}])");
  auto m = expect_error("unknown event");
  EXPECT_EQ(m.ref, "9");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, NotJson) {
  c_->send_text("this is not json");
  auto m = expect_error("invalid message");
  EXPECT_EQ(m.topic, "phoenix");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, WrongShapesAndTypes) {
  for (const char* frame : {R"({"topic":"echo:a"})", "[]", "42", R"(["1","2","echo:a"])",
                            R"(["1","2","echo:a","e",{},"extra"])", R"(["1",{},"echo:a","e",{}])",
                            R"([1,"2","echo:a","e",{}])", R"(["1","2",7,"e",{}])",
                            R"(["1","2","echo:a",false,{}])", R"(["1","2","","e",{}])"}) {
    c_->send_text(frame);
    expect_error("invalid message");
  }
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, ErrorReplyKeepsRefAndTopicWhenReadable) {
  c_->send_text(R"(["5","6","echo:a","e"])");
  auto m = expect_error("invalid message");
  EXPECT_EQ(m.join_ref, "5");
  EXPECT_EQ(m.ref, "6");
  EXPECT_EQ(m.topic, "echo:a");
}

TEST_F(ProtocolErrorsTest, DeepNesting) {
  std::string deep = R"(["1","2","echo:a","e",)";
  for (int i = 0; i < 500; ++i) deep += '[';
  for (int i = 0; i < 500; ++i) deep += ']';
  deep += ']';
  c_->send_text(deep);
  expect_error("invalid message: nesting too deep");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, HugeNumbersDoNotHurt) {
  join_ok(*c_, "echo:nums");
  auto r = await(c_->push("echo:nums", "n", json::parse(R"({"big":1e308,"int":-9223372036854775808})")));
  EXPECT_TRUE(r.ok());
  ASSERT_TRUE(c_->wait_for("echo:nums", "n", wait_limit));  // echo:* broadcasts it too
  // A number that overflows a double is refused: echoing it would not be JSON.
  c_->send_text(R"([null,"huge","echo:nums","n",{"x":[1e999999]}])");
  auto reply = expect_error("invalid message: number out of range");
  EXPECT_EQ(reply.ref, "huge");
  EXPECT_EQ(reply.topic, "echo:nums");
  c_->send_text("[null,\"long\",\"echo:nums\",\"n\"," + std::string(400, '9') + "]");
  EXPECT_EQ(expect_error("invalid message: number out of range").ref, "long");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, InvalidUtf8TextFrameClosesWith1007) {
  // RFC 6455 8.1: a text frame that is not UTF-8 fails the connection (1007).
  c_->send_text(std::string("[\"1\",\"2\",\"echo:x\",\"n\",\"\xff\xfe\"]"));
  EXPECT_EQ(c_->wait_closed(wait_limit), 1007);
  auto other = connect(*srv_);
  join_ok(*other, "echo:after-utf8");
}

TEST_F(ProtocolErrorsTest, MalformedBinaryFrames) {
  c_->send_binary(std::string("\x05\x00", 2));
  expect_error("invalid message");
  c_->send_binary(std::string("\x00\x09\x09\x09\x09", 5));
  expect_error("invalid message");
  c_->send_binary("");
  expect_error("invalid message");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, InvalidTopicName) {
  EXPECT_EQ(await(c_->join("echo:\x01")).reason(), "invalid topic");
  EXPECT_EQ(await(c_->join("echo:" + std::string(300, 'x'))).reason(), "invalid topic");
  expect_still_alive();
}

TEST_F(ProtocolErrorsTest, OversizedFrameClosesWith1009AndServerGoesOn) {
  c_->send_text(std::string(8000, 'x'));
  EXPECT_EQ(c_->wait_closed(wait_limit), 1009);
  auto other = connect(*srv_);
  join_ok(*other, "echo:after");
}

TEST(UpgradeErrors, UnknownPathAndVersionAreRefused) {
  auto srv = start_test_server();
  auto o = client_options(*srv);
  o.path = "/not/a/socket";
  try {
    client::connect(o);
    FAIL() << "upgrade on an unknown path must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("404"), std::string::npos) << e.what();
  }
  o = client_options(*srv);
  o.params["vsn"] = "1.0.0";
  try {
    client::connect(o);
    FAIL() << "vsn 1.0.0 must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("400"), std::string::npos) << e.what();
  }
}

TEST(Http, HealthAndUnknownPaths) {
  auto srv = start_test_server();
  auto health = http_get(srv->port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(json::parse(health.body).at("status"), "ok");
  auto missing = http_get(srv->port(), "/no/such/page");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(json::parse(missing.body).at("error"), "not_found");
  // A plain GET of the socket path without an upgrade is not a WebSocket.
  EXPECT_EQ(http_get(srv->port(), "/socket/websocket").status, 404);
}

}  // namespace
}  // namespace roomcast::testing
