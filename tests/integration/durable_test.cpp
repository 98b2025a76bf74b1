// Durable topics over real sockets with a real SQLite file: seqs, acknowledge
// after commit, recovery with "since" under live traffic, history, retention,
// the HTTP history API, and a kill -9 of the server binary.
#include "child_process.hpp"
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <csignal>
#include <thread>
#include <vector>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

std::uint64_t seq_of(const json::value& v) { return v.at("seq").to_number<std::uint64_t>(); }

/// Seqs of `event` broadcasts on `topic` received by `c`, until `last` arrives.
std::vector<std::uint64_t> seqs_until(client& c, const std::string& topic, const std::string& event,
                                      std::uint64_t last) {
  std::vector<std::uint64_t> seqs;
  while (seqs.empty() || seqs.back() < last) {
    auto m = c.wait_for(topic, event, wait_limit);
    if (!m) {
      ADD_FAILURE() << "no " << event << " after seq " << (seqs.empty() ? 0 : seqs.back());
      break;
    }
    seqs.push_back(seq_of(m->payload));
  }
  return seqs;
}

/// Empty when `got` is first..last in order; else where it first differs.
std::string gaps(const std::vector<std::uint64_t>& got, std::uint64_t first, std::uint64_t last) {
  std::uint64_t want = first;
  for (std::size_t i = 0; i < got.size(); ++i, ++want)
    if (got[i] != want)
      return "at index " + std::to_string(i) + ": got seq " + std::to_string(got[i]) +
             ", expected " + std::to_string(want);
  if (want != last + 1) return "ended before seq " + std::to_string(last);
  return {};
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (auto s = first; s <= last; ++s) out.push_back(s);
  return out;
}

class DurableTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(retention keep = {}) {
    server_options o;
    o.data_dir = dir_.path();
    o.store.durable.push_back({"echo:*", keep});
    o.api_keys = {"test-key"};
    srv_ = start_test_server(o);
  }

  /// Pushes `n` messages {"n": i} and waits for every acknowledgement; returns their seqs.
  std::vector<std::uint64_t> push_acked(client& c, const std::string& topic, int n) {
    std::vector<std::future<reply_message>> acks;
    for (int i = 0; i < n; ++i) acks.push_back(c.push(topic, "msg", json::object{{"n", i}}));
    std::vector<std::uint64_t> seqs;
    for (auto& f : acks) {
      auto r = await(std::move(f));
      EXPECT_TRUE(r.ok()) << r.reason();
      if (r.ok()) seqs.push_back(seq_of(r.response));
    }
    return seqs;
  }

  temp_dir dir_;
  std::unique_ptr<server> srv_;
};

TEST_F(DurableTest, AcknowledgementCarriesTheSeqAndFollowsTheCommit) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:ack");
  for (std::uint64_t expected = 1; expected <= 5; ++expected) {
    auto r = await(c->push("echo:ack", "msg", json::object{{"n", expected}}));
    ASSERT_TRUE(r.ok()) << r.reason();
    EXPECT_EQ(seq_of(r.response), expected);
    // Acknowledged means committed: the store already has it.
    auto page = srv_->history("echo:ack", expected - 1, 10);
    ASSERT_EQ(page.messages.size(), 1u);
    EXPECT_EQ(page.messages[0].seq, expected);
    EXPECT_EQ(json::parse(page.messages[0].payload).at("n"), expected);
  }
  EXPECT_EQ(seqs_until(*c, "echo:ack", "msg", 5), range(1, 5));
}

TEST_F(DurableTest, AChannelCanDeclareItselfDurable) {
  auto c = connect(*srv_);
  join_ok(*c, "journal:1");
  auto r = await(c->push("journal:1", "two"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(seq_of(r.response), 2u) << "the reply carries its push's last seq";
  EXPECT_EQ(seqs_until(*c, "journal:1", "entry", 2), range(1, 2));
  auto own = await(c->push("journal:1", "say", json::object{{"seq", 999}, {"x", 1}}));
  EXPECT_EQ(own.response.at("mine"), true);
  EXPECT_EQ(seq_of(own.response), 3u);
  auto entry = c->wait_for("journal:1", "entry", wait_limit);
  ASSERT_TRUE(entry);
  EXPECT_EQ(seq_of(entry->payload), 3u) << "a payload's own seq is replaced";
}

TEST_F(DurableTest, AChannelReadsItsHistory) {
  auto c = connect(*srv_);
  join_ok(*c, "journal:hist");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(await(c->push("journal:hist", "say")).ok());
  ASSERT_TRUE(await(c->push("journal:hist", "recent")).ok());
  auto recent = c->wait_for("journal:hist", "recent", wait_limit);
  ASSERT_TRUE(recent);
  EXPECT_EQ(recent->payload.at("ok"), true);
  EXPECT_EQ(recent->payload.at("seqs"), (json::array{2, 3}));
}

TEST_F(DurableTest, NonObjectPayloadsAreNotStored) {
  auto c = connect(*srv_);
  join_ok(*c, "journal:2");
  auto r = await(c->push("journal:2", "not_object"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.response.at("dropped"), 1);
  EXPECT_EQ(srv_->history("journal:2").last_seq, 0u);
  EXPECT_FALSE(c->wait_for("journal:2", "entry", std::chrono::milliseconds(100)));
}

TEST_F(DurableTest, PushesToOneMemberStayLiveOnly) {
  auto c = connect(*srv_);
  join_ok(*c, "journal:3");
  ASSERT_TRUE(await(c->push("journal:3", "whisper", json::object{{"w", 1}})).ok());
  EXPECT_TRUE(c->wait_for("journal:3", "whisper", wait_limit));
  EXPECT_EQ(srv_->history("journal:3").last_seq, 0u);
}

TEST_F(DurableTest, SinceReplaysWhatWasMissedThenLiveWithoutGapOrDuplicate) {
  auto publisher = connect(*srv_);
  join_ok(*publisher, "echo:live");
  push_acked(*publisher, "echo:live", 50);
  // Live traffic keeps flowing while the joiner recovers from seq 20.
  constexpr int later = 400;
  std::vector<std::future<reply_message>> inflight;
  for (int i = 0; i < later; ++i)
    inflight.push_back(publisher->push("echo:live", "msg", json::object{{"n", i}}));
  auto joiner = connect(*srv_);
  auto joined = join_ok(*joiner, "echo:live", json::object{{"since", 20}});
  EXPECT_EQ(joined.response.at("recovered"), true);
  EXPECT_EQ(joined.response.at("oldest_seq"), 1);
  for (auto& f : inflight) ASSERT_TRUE(await(std::move(f)).ok());
  EXPECT_EQ(gaps(seqs_until(*joiner, "echo:live", "msg", 50 + later), 21, 50 + later), "");
  EXPECT_FALSE(joiner->wait_for("echo:live", "msg", std::chrono::milliseconds(100)))
      << "a duplicate arrived after the last seq";
}

TEST_F(DurableTest, SinceAtTheLatestSeqRecoversWithNothingToReplay) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:uptodate");
  push_acked(*c, "echo:uptodate", 3);
  auto other = connect(*srv_);
  auto joined = join_ok(*other, "echo:uptodate", json::object{{"since", 3}});
  EXPECT_EQ(joined.response.at("recovered"), true);
  EXPECT_EQ(joined.response.at("last_seq"), 3);
  EXPECT_FALSE(other->wait_for("echo:uptodate", "msg", std::chrono::milliseconds(100)));
}

TEST_F(DurableTest, AReplayLargerThanTheOutboundBudgetDoesNotCloseTheSocket) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:big");
  std::string pad(600, 'x');
  // In bursts of 100: the pusher's own echoes and broadcasts must stay under its
  // budget too (a 2,500-push burst would make it a slow reader, closed with 1013).
  for (int burst = 0; burst < 25; ++burst) {
    std::vector<std::future<reply_message>> acks;
    for (int i = 0; i < 100; ++i) acks.push_back(c->push("echo:big", "msg", json::object{{"pad", pad}}));
    for (auto& f : acks) ASSERT_TRUE(await(std::move(f)).ok());
  }
  auto reader = connect(*srv_);  // 2,500 x ~650 bytes: past the 1 MiB budget
  join_ok(*reader, "echo:big", json::object{{"since", 0}});
  EXPECT_EQ(gaps(seqs_until(*reader, "echo:big", "msg", 2'500), 1, 2'500), "");
  EXPECT_TRUE(reader->is_open());
}

TEST_F(DurableTest, HistoryReplaysTheLastK) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:hist");
  push_acked(*c, "echo:hist", 12);
  auto reader = connect(*srv_);
  auto joined = join_ok(*reader, "echo:hist", json::object{{"history", 4}});
  EXPECT_FALSE(joined.response.as_object().contains("recovered"));
  EXPECT_EQ(joined.response.at("last_seq"), 12);
  EXPECT_EQ(seqs_until(*reader, "echo:hist", "msg", 12), range(9, 12));
}

TEST_F(DurableTest, InvalidSinceIsRefused) {
  auto c = connect(*srv_);
  for (auto params : {json::object{{"since", "x"}}, json::object{{"since", -1}},
                      json::object{{"history", 1.5}}}) {
    auto r = await(c->join("echo:bad", params));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.reason(), "invalid join params: since and history must be non-negative integers");
  }
}

TEST_F(DurableTest, SinceOnANonDurableTopicIsTheChannelsBusiness) {
  auto c = connect(*srv_);
  auto r = join_ok(*c, "room:plain", json::object{{"since", "anything"}});
  EXPECT_FALSE(r.response.as_object().contains("recovered"));
}

TEST_F(DurableTest, SinceOlderThanRetentionSaysNotRecovered) {
  srv_.reset();
  start(retention{10, std::chrono::seconds(0)});
  auto c = connect(*srv_);
  join_ok(*c, "echo:short");
  push_acked(*c, "echo:short", 30);
  auto late = connect(*srv_);
  auto joined = join_ok(*late, "echo:short", json::object{{"since", 2}});
  EXPECT_EQ(joined.response.at("recovered"), false);
  EXPECT_EQ(joined.response.at("oldest_seq"), 21);
  EXPECT_EQ(seqs_until(*late, "echo:short", "msg", 30), range(21, 30));
}

TEST_F(DurableTest, SeqsContinueAfterARestart) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:restart");
  push_acked(*c, "echo:restart", 3);
  c.reset();
  srv_.reset();
  start();
  auto again = connect(*srv_);
  join_ok(*again, "echo:restart");
  EXPECT_EQ(push_acked(*again, "echo:restart", 2), range(4, 5));
}

TEST_F(DurableTest, HttpHistoryNeedsTheApiKeyAndAnswersJson) {
  auto c = connect(*srv_);
  join_ok(*c, "echo:http");
  push_acked(*c, "echo:http", 5);
  const std::string auth = "Authorization: Bearer test-key\r\n";
  auto ok = http_get(srv_->port(), "/api/topics/echo:http/history?since=2&limit=2", auth);  // 3, 4
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto body = json::parse(ok.body);
  EXPECT_EQ(body.at("topic"), "echo:http");
  EXPECT_EQ(body.at("last_seq"), 5);
  EXPECT_EQ(body.at("oldest_seq"), 1);
  auto messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("seq"), 3);
  EXPECT_EQ(messages[1].at("seq"), 4);
  EXPECT_EQ(messages[0].at("event"), "msg");
  EXPECT_EQ(messages[0].at("payload").at("n"), 2);
  EXPECT_TRUE(messages[0].at("ts").is_int64());
  // Percent-encoded topics work too.
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo%3Ahttp/history", auth).status, 200);

  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history").status, 401);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history",
                     "Authorization: Bearer wrong-key\r\n").status, 401);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history",
                     "Authorization: Basic dGVzdC1rZXk=\r\n").status, 401);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/nochannel:x/history", auth).status, 404);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history?since=-1", auth).status, 400);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history?limit=0", auth).status, 400);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history?limit=5000", auth).status, 400);
  EXPECT_EQ(http_get(srv_->port(), "/api/topics/echo:http/history", auth, "POST").status, 405);
  auto bad = http_get(srv_->port(), "/api/topics/echo:http/history");
  EXPECT_EQ(json::parse(bad.body).at("error"), "unauthorized");
}

TEST(DurableApiKeys, WithoutConfiguredKeysTheApiIsClosed) {
  temp_dir dir;
  server_options o;
  o.data_dir = dir.path();
  auto srv = start_test_server(o);
  auto r = http_get(srv->port(), "/api/topics/echo:x/history", "Authorization: Bearer anything\r\n");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("no API key is configured"), std::string::npos) << r.body;
}

TEST_F(DurableTest, ReadyWhenStorageIsHealthy) {
  auto r = http_get(srv_->port(), "/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body).at("storage"), "ok");
}

// The binary, killed with SIGKILL after N acknowledged pushes: after a restart
// on the same data directory, all N are there with the seqs their acks carried.
TEST(DurableProcess, AcknowledgedMessagesSurviveKill9) {
  temp_dir dir;
  std::vector<std::string> args = {"--port", "0", "--durable", "echo:*", "--data-dir", dir.path()};
  auto first = spawn_server(args);
  auto port = listening_port(*first);
  ASSERT_NE(port, 0);
  client::options o;
  o.port = port;
  std::map<std::uint64_t, int> acked;  // seq -> n
  {
    auto c = client::connect(o);
    join_ok(*c, "echo:crash");
    std::vector<std::future<reply_message>> acks;
    for (int i = 0; i < 300; ++i) acks.push_back(c->push("echo:crash", "msg", json::object{{"n", i}}));
    for (int i = 0; i < 300; ++i) {
      auto r = await(std::move(acks[static_cast<std::size_t>(i)]));
      ASSERT_TRUE(r.ok()) << r.reason();
      acked[seq_of(r.response)] = i;
    }
    ASSERT_EQ(::kill(first->pid, SIGKILL), 0);
    first->wait_exit(wait_limit);
  }
  ASSERT_EQ(acked.size(), 300u);
  auto second = spawn_server(args);
  o.port = listening_port(*second);
  ASSERT_NE(o.port, 0);
  auto c = client::connect(o);
  auto joined = join_ok(*c, "echo:crash", json::object{{"since", 0}});
  EXPECT_EQ(joined.response.at("recovered"), true);
  EXPECT_EQ(joined.response.at("last_seq"), 300);
  const auto expected = acked.size();
  for (std::size_t i = 0; i < expected; ++i) {
    auto m = c->wait_for("echo:crash", "msg", wait_limit);
    ASSERT_TRUE(m) << "message " << i << " missing after the restart";
    auto seq = seq_of(m->payload);
    ASSERT_TRUE(acked.count(seq)) << "unexpected seq " << seq;
    EXPECT_EQ(m->payload.at("n"), acked[seq]);
    acked.erase(seq);
  }
  EXPECT_TRUE(acked.empty());
  ::kill(second->pid, SIGTERM);
  EXPECT_EQ(second->wait_exit(wait_limit), 0);
}

}  // namespace
}  // namespace roomcast::testing
