// Phoenix v2 codec: every frame kind, every error path.
#include "protocol/codec.hpp"
#include "protocol/errors.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <string>

namespace roomcast::protocol {
namespace {

namespace json = boost::json;

const decode_limits limits{};

message decode_ok(std::string_view frame) {
  auto r = decode_text(frame, limits);
  EXPECT_TRUE(std::holds_alternative<message>(r)) << frame;
  return std::holds_alternative<message>(r) ? std::get<message>(r) : message{};
}

decode_failure decode_bad(std::string_view frame) {
  auto r = decode_text(frame, limits);
  EXPECT_TRUE(std::holds_alternative<decode_failure>(r)) << frame;
  return std::holds_alternative<decode_failure>(r) ? std::get<decode_failure>(r)
                                                    : decode_failure{};
}

// -- text decoding ------------------------------------------------------------------

TEST(DecodeText, JoinEnvelope) {
  auto m = decode_ok(R"(["1","1","room:lobby","phx_join",{"since":5}])");
  EXPECT_EQ(m.join_ref, "1");
  EXPECT_EQ(m.ref, "1");
  EXPECT_EQ(m.topic, "room:lobby");
  EXPECT_EQ(m.event, "phx_join");
  EXPECT_EQ(m.payload.at("since").as_int64(), 5);
  EXPECT_FALSE(m.is_binary());
}

TEST(DecodeText, HeartbeatHasNullJoinRef) {
  auto m = decode_ok(R"([null,"7","phoenix","heartbeat",{}])");
  EXPECT_FALSE(m.join_ref.has_value());
  EXPECT_EQ(m.ref, "7");
  EXPECT_EQ(m.topic, "phoenix");
  EXPECT_EQ(m.event, "heartbeat");
}

TEST(DecodeText, AnyJsonPayload) {
  EXPECT_TRUE(decode_ok(R"(["1","2","t","e",[1,2,3]])").payload.is_array());
  EXPECT_TRUE(decode_ok(R"(["1","2","t","e","text"])").payload.is_string());
  EXPECT_TRUE(decode_ok(R"(["1","2","t","e",null])").payload.is_null());
}

TEST(DecodeText, NotJson) {
  EXPECT_EQ(decode_bad("hello").reason, reasons::invalid_message);
  EXPECT_EQ(decode_bad("").reason, reasons::invalid_message);
  EXPECT_EQ(decode_bad(R"(["1","1","t","e",{)").reason, reasons::invalid_message);
  EXPECT_EQ(decode_bad("\xff\xfe").reason, reasons::invalid_message);
}

TEST(DecodeText, NotAnArray) {
  EXPECT_EQ(decode_bad(R"({"topic":"t"})").reason, reasons::invalid_message);
  EXPECT_EQ(decode_bad("42").reason, reasons::invalid_message);
  EXPECT_EQ(decode_bad("null").reason, reasons::invalid_message);
}

TEST(DecodeText, WrongLengthKeepsWhatItCanRead) {
  auto f = decode_bad(R"(["1","2","room:a","e"])");
  EXPECT_EQ(f.reason, reasons::invalid_message);
  EXPECT_EQ(f.join_ref, "1");
  EXPECT_EQ(f.ref, "2");
  EXPECT_EQ(f.topic, "room:a");
  EXPECT_EQ(decode_bad(R"(["1","2","t","e",{},1])").topic, "t");
  EXPECT_EQ(decode_bad("[]").topic, "");
}

TEST(DecodeText, WrongTypes) {
  auto f = decode_bad(R"([1,"2","room:a","e",{}])");  // numeric join_ref
  EXPECT_EQ(f.reason, reasons::invalid_message);
  EXPECT_FALSE(f.join_ref.has_value());
  EXPECT_EQ(f.ref, "2");
  EXPECT_EQ(f.topic, "room:a");
  decode_bad(R"(["1",{},"t","e",{}])");      // object ref
  decode_bad(R"(["1","2",5,"e",{}])");       // numeric topic
  decode_bad(R"(["1","2","t",true,{}])");    // boolean event
  decode_bad(R"(["1","2","","e",{}])");      // empty topic
  decode_bad(R"(["1","2","t","",{}])");      // empty event
  // Refs longer than 255 bytes could not travel in a binary reply.
  auto long_ref = decode_bad("[\"" + std::string(256, 'r') + "\",\"2\",\"t\",\"e\",{}]");
  EXPECT_FALSE(long_ref.join_ref.has_value());
  EXPECT_EQ(long_ref.ref, "2");
  decode_ok("[\"" + std::string(255, 'r') + "\",\"2\",\"t\",\"e\",{}]");
}

TEST(DecodeText, DeepNestingIsRefused) {
  std::string deep = R"(["1","2","t","e",)";
  for (int i = 0; i < 100; ++i) deep += '[';
  for (int i = 0; i < 100; ++i) deep += ']';
  deep += ']';
  EXPECT_EQ(decode_bad(deep).reason, reasons::too_deep);
  decode_limits generous{200};
  EXPECT_TRUE(std::holds_alternative<message>(decode_text(deep, generous)));
}

TEST(DecodeText, HugeNumbersDoNotCrash) {
  auto m = decode_ok(R"(["1","2","t","e",{"n":123456789012345678901234567890}])");
  EXPECT_TRUE(m.payload.at("n").is_double());
  EXPECT_TRUE(decode_ok(R"(["1","2","t","e",{"n":1.5e300,"s":"1e999"}])").payload.is_object());
}

TEST(DecodeText, OverflowingNumbersAreRefused) {
  // Boost.JSON would turn them into infinity and serialize that as `Infinity`.
  EXPECT_EQ(decode_bad(R"(["1","2","t","e",1e99999])").reason, reasons::number_out_of_range);
  EXPECT_EQ(decode_bad(R"(["1","2","t","e",{"a":[-1E400]}])").reason,
            reasons::number_out_of_range);
  EXPECT_EQ(decode_bad(R"(["1","2","t","e",)" + std::string(400, '9') + "]").reason,
            reasons::number_out_of_range);
}

// -- binary decoding ------------------------------------------------------------------

TEST(DecodeBinary, ClientPush) {
  auto frame = encode_client_binary_push("12", "13", "room:a", "file", std::string("\0\x01\x02", 3));
  auto r = decode_client_binary(frame);
  ASSERT_TRUE(std::holds_alternative<message>(r));
  auto& m = std::get<message>(r);
  EXPECT_EQ(m.join_ref, "12");
  EXPECT_EQ(m.ref, "13");
  EXPECT_EQ(m.topic, "room:a");
  EXPECT_EQ(m.event, "file");
  ASSERT_TRUE(m.is_binary());
  EXPECT_EQ(*m.binary, std::string("\0\x01\x02", 3));
}

TEST(DecodeBinary, EmptyPayloadIsFine) {
  auto r = decode_client_binary(encode_client_binary_push("1", "2", "t", "e", ""));
  ASSERT_TRUE(std::holds_alternative<message>(r));
  EXPECT_EQ(*std::get<message>(r).binary, "");
}

TEST(DecodeBinary, Malformed) {
  auto bad = [](std::string_view f) {
    return std::holds_alternative<decode_failure>(decode_client_binary(f));
  };
  EXPECT_TRUE(bad(""));
  EXPECT_TRUE(bad(std::string("\x00", 1)));                      // header cut short
  EXPECT_TRUE(bad(std::string("\x00\x01\x01\x01\x01", 5)));      // sizes beyond the end
  EXPECT_TRUE(bad(std::string("\x01\x00\x00\x01\x01te", 7)));    // reply kind from a client
  EXPECT_TRUE(bad(std::string("\x02\x01\x01te", 5)));            // broadcast kind from a client
  EXPECT_TRUE(bad(std::string("\x07\x00\x00\x01\x01te", 7)));    // unknown kind
  EXPECT_TRUE(bad(std::string("\x00\x00\x00\x00\x01" "e", 6)));  // empty topic
}

TEST(DecodeBinary, ServerKindsRoundTrip) {
  auto push = decode_server_binary(encode_binary_push("3", "room:a", "ev", "DATA"));
  ASSERT_TRUE(std::holds_alternative<message>(push));
  EXPECT_EQ(std::get<message>(push).join_ref, "3");
  EXPECT_EQ(std::get<message>(push).event, "ev");
  EXPECT_EQ(*std::get<message>(push).binary, "DATA");

  auto reply = decode_server_binary(encode_binary_reply("3", "4", "room:a", "ok", "R"));
  ASSERT_TRUE(std::holds_alternative<message>(reply));
  auto& r = std::get<message>(reply);
  EXPECT_EQ(r.event, events::reply);
  EXPECT_EQ(r.ref, "4");
  EXPECT_EQ(r.payload.at("status").as_string(), "ok");
  EXPECT_EQ(*r.binary, "R");

  auto bc = decode_server_binary(encode_binary_broadcast("room:a", "tick", "xyz"));
  ASSERT_TRUE(std::holds_alternative<message>(bc));
  EXPECT_FALSE(std::get<message>(bc).join_ref.has_value());
  EXPECT_EQ(std::get<message>(bc).topic, "room:a");
  EXPECT_EQ(*std::get<message>(bc).binary, "xyz");
}

TEST(EncodeBinary, ExactLayout) {
  EXPECT_EQ(encode_binary_broadcast("t", "e", "p"), std::string("\x02\x01\x01tep", 6));
  EXPECT_EQ(encode_binary_push("j", "t", "e", "p"), std::string("\x00\x01\x01\x01jtep", 8));
  EXPECT_EQ(encode_binary_reply("j", "r", "t", "ok", "p"),
            std::string("\x01\x01\x01\x01\x02jrtokp", 11));
}

TEST(EncodeBinary, FieldsOver255BytesThrow) {
  std::string long_topic(256, 'a');
  EXPECT_THROW((void)encode_binary_broadcast(long_topic, "e", ""), std::length_error);
  EXPECT_NO_THROW((void)encode_binary_broadcast(std::string(255, 'a'), "e", ""));
}

// -- text encoding --------------------------------------------------------------------

TEST(EncodeText, BroadcastHasNullRefs) {
  EXPECT_EQ(encode_text(std::nullopt, std::nullopt, "room:a", "msg", json::object{{"a", 1}}),
            R"([null,null,"room:a","msg",{"a":1}])");
}

TEST(EncodeText, ReplyShape) {
  auto text = encode_reply("1", "2", "room:a", "error", json::object{{"reason", "nope"}});
  EXPECT_EQ(text, R"(["1","2","room:a","phx_reply",{"status":"error","response":{"reason":"nope"}}])");
  auto parsed = json::parse(text);
  EXPECT_EQ(parsed.at(4).at("status").as_string(), "error");
}

TEST(EncodeText, EscapesStrings) {
  auto text = encode_text("a\"b", std::nullopt, "t\\x", "e\n\x01", nullptr);
  auto parsed = json::parse(text);
  EXPECT_EQ(parsed.at(0).as_string(), "a\"b");
  EXPECT_EQ(parsed.at(2).as_string(), "t\\x");
  EXPECT_EQ(parsed.at(3).as_string(), "e\n\x01");
}

TEST(EncodeText, RoundTripsThroughDecoder) {
  json::value payload = json::parse(R"({"nested":{"list":[1,"two",null,true]},"u":"\u00e9"})");
  auto text = encode_text("5", "6", "room:ü", "ev", payload);
  auto m = decode_ok(text);
  EXPECT_EQ(m.topic, "room:ü");
  EXPECT_EQ(m.payload, payload);
}

}  // namespace
}  // namespace roomcast::protocol
