// Backpressure and limits: every limit triggered, with its exact error or close
// code and its counter; slow and flooding clients never hurt the others.
#include "child_process.hpp"
#include "raw_ws.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

#ifdef ROOMCAST_SANITIZED
constexpr std::size_t scale = 5;  // sanitizer builds run the same tests with less data
#else
constexpr std::size_t scale = 1;
#endif

/// Waits until `done` holds (bounded).
template <class F>
bool eventually(F done, std::chrono::milliseconds limit = wait_limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string join_frame(const std::string& topic) {
  return json::serialize(json::array{"1", "1", topic.c_str(), "phx_join", json::object()});
}

/// Joins `topic` with a raw socket and reads the join reply (the only frame it
/// reads before it stops reading), so the load that follows finds it a member.
void join_raw(raw_ws& socket, const std::string& topic) {
  socket.send_text(join_frame(topic));
  auto reply = socket.read_frame(wait_limit);
  ASSERT_TRUE(reply) << "no join reply for the raw socket";
  EXPECT_NE(reply->payload.find("\"ok\""), std::string::npos) << reply->payload;
}

TEST(RateLimit, ExcessPushesAreRefusedAndAbuseIsClosed) {
  server_options o;
  o.max_pushes_per_second = 5;
  o.push_burst = 5;
  o.rate_limit_strikes = 10;
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  join_ok(*c, "room:rl");
  std::vector<std::future<reply_message>> replies;
  for (int i = 0; i < 30; ++i) replies.push_back(c->push("room:rl", "count"));
  int ok = 0, limited = 0, unanswered = 0;
  for (auto& f : replies) {
    if (f.wait_for(wait_limit) != std::future_status::ready) {
      ++unanswered;
      continue;
    }
    try {
      auto r = f.get();
      if (r.ok()) ++ok;
      else if (r.reason() == "rate_limited") ++limited;
    } catch (const std::exception&) {
      ++unanswered;  // closed before its reply came (the socket was closed for abuse)
    }
  }
  // Refusals come from the connection itself, answers to admitted pushes from the
  // room: once the socket is closed some admitted pushes stay unanswered.
  EXPECT_LE(ok, 8) << "a burst of 5 refills at 5/s";
  EXPECT_EQ(limited, 10) << "the tenth refusal closes the socket";
  EXPECT_EQ(ok + limited + unanswered, 30);
  EXPECT_EQ(c->wait_closed(wait_limit), 1008);
  EXPECT_EQ(srv->stats().rate_limited_pushes, 10u);
  EXPECT_EQ(srv->stats().rate_limit_closes, 1u);
}

TEST(Limits, PayloadTooLarge) {
  server_options o;
  o.max_event_payload_bytes = 1000;
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  join_ok(*c, "room:big");
  EXPECT_EQ(await(c->push("room:big", "shout", json::object{{"b", std::string(2000, 'x')}})).reason(),
            "payload too large");
  EXPECT_TRUE(await(c->push("room:big", "shout", json::object{{"b", "small"}})).ok());
  EXPECT_EQ(srv->stats().oversized_payloads, 1u);
}

TEST(Limits, BusyRoomAnswersOverloaded) {
  server_options o;
  o.max_room_mailbox = 3;
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  join_ok(*c, "room:busy");
  auto sleeping = c->push("room:busy", "sleep");  // holds the room for 300 ms
  ASSERT_TRUE(eventually([] { return room_is_sleeping(); })) << "the room never slept";
  std::vector<std::future<reply_message>> replies;
  for (int i = 0; i < 20; ++i) replies.push_back(c->push("room:busy", "count"));
  EXPECT_TRUE(await(std::move(sleeping)).ok());
  int overloaded = 0, ok = 0;
  for (auto& f : replies) {
    auto r = await(std::move(f));
    if (r.ok()) ++ok;
    else if (r.reason() == "overloaded") ++overloaded;
  }
  EXPECT_GE(overloaded, 1);
  EXPECT_EQ(ok + overloaded, 20);
  EXPECT_TRUE(await(c->push("room:busy", "count")).ok()) << "served again once it caught up";
  EXPECT_EQ(srv->stats().overloaded_pushes, static_cast<std::uint64_t>(overloaded));
}

TEST(Limits, ConnectionsPerServerAndPerAddress) {
  server_options per_node;
  per_node.max_connections = 2;
  auto srv = start_test_server(per_node);
  auto a = connect(*srv);
  auto b = connect(*srv);
  try {
    connect(*srv);
    FAIL() << "a third socket must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("503"), std::string::npos) << e.what();
  }
  EXPECT_EQ(srv->stats().refused_node_limit, 1u);
  a->close();
  std::unique_ptr<client> again;
  EXPECT_TRUE(eventually([&] {
    try {
      again = connect(*srv);
      return true;
    } catch (const std::exception&) {
      return false;
    }
  })) << "a closed socket frees its place";

  server_options per_ip;
  per_ip.max_connections_per_ip = 1;
  auto srv2 = start_test_server(per_ip);
  auto c = connect(*srv2);
  try {
    connect(*srv2);
    FAIL() << "a second socket from 127.0.0.1 must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("429"), std::string::npos) << e.what();
  }
  EXPECT_EQ(srv2->stats().refused_ip_limit, 1u);
}

// -- slow readers ----------------------------------------------------------------------------

struct slow_reader_result {
  std::size_t received = 0;       // broadcasts the slow client read in the end
  std::uint64_t told_dropped = 0;  // from its frames_dropped push
  std::int64_t last_seen = -1;     // highest broadcast number it read
  bool closed = false;
};

/// A slow client joins `topic` and stops reading; a fast member pushes `count`
/// broadcasts of `size` bytes (all of which it must receive); then the slow
/// client reads whatever reached it.
slow_reader_result run_slow_reader(server& srv, const std::string& topic, std::size_t count,
                                   std::size_t size, std::size_t window = 10) {
  // A default receive buffer: the kernel holds up to ~10 MB for a non-reader
  // (a tiny one would make the late reading crawl), so send well past that.
  raw_ws slow(srv.port(), "/socket/websocket?vsn=2.0.0");
  join_raw(slow, topic);
  auto fast = connect(srv);
  join_ok(*fast, topic);
  // `window` at a time: a reply follows the broadcasts before it, so the fast
  // member's backlog stays below the budget while the slow one's grows past it.
  std::size_t seen = 0;
  for (std::size_t sent = 0; sent < count; sent += window) {
    std::vector<std::future<reply_message>> replies;
    for (std::size_t i = sent; i < std::min(count, sent + window); ++i)
      replies.push_back(fast->push(topic, "shout",
                                   json::object{{"n", i}, {"pad", std::string(size, 'p')}}));
    for (auto& f : replies) EXPECT_TRUE(await(std::move(f)).ok());
    for (; seen < std::min(count, sent + window); ++seen) {
      auto m = fast->wait_for(topic, "shout", wait_limit);
      EXPECT_TRUE(m) << "the fast member missed broadcast " << seen;
      if (!m) return {};
      EXPECT_EQ(m->payload.at("n").as_int64(), static_cast<std::int64_t>(seen)) << "in order";
    }
  }
  // Read until quiet (2 s); one frames_dropped notice per episode of drops.
  slow_reader_result r;
  while (auto f = slow.read_frame(2s)) {
    if (f->opcode != 1) continue;
    auto v = json::parse(f->payload);
    const auto& event = v.at(3).as_string();
    if (event == "shout") {
      ++r.received;
      r.last_seen = std::max(r.last_seen, v.at(4).at("n").as_int64());
    } else if (event == "frames_dropped") {
      r.told_dropped += static_cast<std::uint64_t>(v.at(4).at("count").as_int64());
    }
  }
  r.closed = slow.closed();
  return r;
}

TEST(SlowReader, ClosePolicyClosesTheSlowSocketOnly) {
  server_options o;
  o.outbound_budget_bytes = 1 << 20;
  o.handshake_timeout = 500ms;  // bounds the closing handshake with a stuck peer
  auto srv = start_test_server(o);
  auto r = run_slow_reader(*srv, "room:slow-close", 600, 50'000);  // 30 MB
  EXPECT_TRUE(r.closed) << "the slow socket is closed";
  EXPECT_LT(r.received, 600u);
  EXPECT_EQ(srv->stats().backpressure_closes, 1u);
  EXPECT_EQ(srv->stats().frames_dropped, 0u);
}

TEST(SlowReader, DropPolicyTellsHowManyWereDropped) {
  server_options o;
  o.outbound_budget_bytes = 1 << 20;
  o.overflow = overflow_policy::drop;
  auto srv = start_test_server(o);
  const std::size_t count = 600;  // 30 MB
  auto r = run_slow_reader(*srv, "room:slow-drop", count, 50'000);
  EXPECT_FALSE(r.closed);
  EXPECT_GT(r.told_dropped, 0u);
  EXPECT_EQ(r.received + r.told_dropped, count) << "every broadcast arrived or was counted";
  EXPECT_EQ(srv->stats().frames_dropped, r.told_dropped);
  EXPECT_EQ(srv->stats().backpressure_closes, 0u);
}

TEST(SlowReader, DropOldestKeepsTheNewest) {
  server_options o;
  o.outbound_budget_bytes = 1 << 20;
  o.overflow = overflow_policy::drop_oldest;
  auto srv = start_test_server(o);
  const std::size_t count = 600;  // 30 MB
  auto r = run_slow_reader(*srv, "room:slow-oldest", count, 50'000);
  EXPECT_GT(r.told_dropped, 0u);
  EXPECT_EQ(r.received + r.told_dropped, count);
  EXPECT_EQ(r.last_seen, static_cast<std::int64_t>(count - 1)) << "the newest survives";
}

TEST(SlowReader, ChannelBudgetAndPolicyOverrideTheServerDefaults) {
  auto srv = start_test_server();  // server default: 1 MiB budget, close
  // One at a time: the channel's own budget (64 KiB) must hold the fast member too.
  auto r = run_slow_reader(*srv, "small:lobby", 1500, 20'000, 1);
  EXPECT_FALSE(r.closed);
  EXPECT_GT(r.told_dropped, 0u);
  EXPECT_EQ(r.received + r.told_dropped, 1500u);
  EXPECT_EQ(srv->stats().backpressure_closes, 0u);
}

TEST(SendStatus, BroadcastReportsWhatBecameOfEachMember) {
  server_options o;
  o.overflow = overflow_policy::drop;
  o.outbound_budget_bytes = 256 * 1024;
  auto srv = start_test_server(o);
  raw_ws slow(srv->port(), "/socket/websocket?vsn=2.0.0");  // joins, then never reads
  join_raw(slow, "room:status");
  auto fast = connect(*srv);
  join_ok(*fast, "room:status");
  auto first = await(fast->push("room:status", "blast", json::object{{"n", 1}, {"size", 10}}));
  EXPECT_EQ(first.response.at("success").as_int64() + first.response.at("backpressure").as_int64(), 2)
      << "idle sockets take it: " << json::serialize(first.response);
  bool saw_dropped = false;
  for (int round = 0; round < 400 && !saw_dropped; ++round) {
    auto r = await(fast->push("room:status", "blast", json::object{{"n", 5}, {"size", 50'000}}));
    const auto& v = r.response.as_object();
    EXPECT_EQ(v.at("success").as_int64() + v.at("backpressure").as_int64() + v.at("dropped").as_int64(),
              2);
    saw_dropped = v.at("dropped").as_int64() >= 1;
    while (fast->wait_for("room:status", "blast", 0ms)) {
    }
  }
  EXPECT_TRUE(saw_dropped) << "the slow member's backlog passed the budget: dropped";
  EXPECT_GT(srv->stats().frames_dropped, 0u);
}

TEST(SendStatus, ADrainedSocketReportsSuccessAgain) {
  auto srv = start_test_server();
  auto a = connect(*srv);
  auto b = connect(*srv);
  join_ok(*a, "room:drained");
  join_ok(*b, "room:drained");
  ASSERT_TRUE(await(a->push("room:drained", "blast", json::object{{"n", 5}, {"size", 50'000}})).ok());
  for (auto* c : {a.get(), b.get()})
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->wait_for("room:drained", "blast", wait_limit));
  // Both sockets drained: their gauges say so (refreshed when the writes finished).
  EXPECT_TRUE(eventually([&] {
    auto r = await(a->push("room:drained", "blast", json::object{{"n", 1}, {"size", 10}}));
    while (a->wait_for("room:drained", "blast", 0ms) || b->wait_for("room:drained", "blast", 0ms)) {
    }
    return r.response.at("success").as_int64() == 2;
  }));
}

TEST(Shutdown, StopDoesNotWaitForAPeerThatStoppedReading) {
  server_options o;
  o.outbound_budget_bytes = 1 << 20;
  o.overflow = overflow_policy::drop;  // the slow socket is not closed for its backlog
  o.handshake_timeout = 300ms;         // bounds every close, including the shutdown's
  o.shutdown_grace = 20s;
  auto srv = start_test_server(o);
  raw_ws slow(srv->port(), "/socket/websocket?vsn=2.0.0");  // joins, never reads
  join_raw(slow, "room:parked");
  auto fast = connect(*srv);
  join_ok(*fast, "room:parked");
  for (int round = 0; round < 60; ++round)  // 15 MB: past the kernel buffers
    ASSERT_TRUE(await(fast->push("room:parked", "blast", json::object{{"n", 5}, {"size", 50'000}})).ok());
  fast->close();
  auto t0 = std::chrono::steady_clock::now();
  srv->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s)
      << "the stuck close is bounded by handshake_timeout, not shutdown_grace";
}

TEST(Limits, HandshakeTimeoutDropsSilentConnections) {
  server_options o;
  o.handshake_timeout = 200ms;
  auto srv = start_test_server(o);
  int fd = loopback_connect(srv->port());
  ASSERT_GE(fd, 0);
  ::send(fd, "GET /socket/websocket HTTP/1.1\r\n", 33, MSG_NOSIGNAL);  // and then nothing
  char byte;
  auto t0 = std::chrono::steady_clock::now();
  auto n = ::recv(fd, &byte, 1, 0);  // 5 s receive timeout set by loopback_connect
  auto waited = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  EXPECT_EQ(n, 0) << "the server closed the connection";
  EXPECT_LT(waited, 3s);
  auto c = connect(*srv);  // and serves others as usual
  join_ok(*c, "echo:after-timeout");
}

// -- the server binary under load: memory stays bounded ---------------------------------------

/// Samples the child's RSS until stopped; the peak in KiB.
class rss_sampler {
 public:
  explicit rss_sampler(const child_process& child)
      : thread_([this, &child] {
          while (!stop_) {
            peak_ = std::max(peak_.load(), child.rss_kib());
            std::this_thread::sleep_for(10ms);
          }
        }) {}
  ~rss_sampler() { finish(); }
  long finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return peak_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> peak_{0};
  std::thread thread_;
};

/// The server's RSS growth stays under `bound_kib`. Not under sanitizers: ASan
/// keeps freed memory in quarantine (256 MB) and pads every allocation, so RSS
/// says nothing there; those builds check the behaviour and memory safety.
void expect_bounded(long before_kib, long peak_kib, long bound_kib) {
#ifdef ROOMCAST_SANITIZED
  (void)before_kib;
  (void)peak_kib;
  (void)bound_kib;
#else
  EXPECT_LT(peak_kib - before_kib, bound_kib)
      << "server RSS grew from " << before_kib << " to " << peak_kib << " KiB";
#endif
}

TEST(ServerMemory, SlowReaderDuring100MBOfBroadcastsStaysBounded) {
  // Bound: 1 MiB budget per socket + 64 KiB coalescing buffer + work in flight;
  // 64 MiB of growth leaves a wide margin and is far below the 100 MB sent.
  constexpr long bound_kib = 64 * 1024;
  auto child = spawn_server({"--host", "127.0.0.1", "--port", "0", "--outbound-budget-bytes",
                             "1048576", "--handshake-timeout-ms", "1000"});
  auto port = listening_port(*child);
  raw_ws slow(port, "/socket/websocket?vsn=2.0.0", 4096);
  join_raw(slow, "echo:mem");
  client::options o;
  o.port = port;
  auto fast = client::connect(o);
  join_ok(*fast, "echo:mem");
  long before = child->rss_kib();
  rss_sampler sampler(*child);
  const std::size_t count = 1000 / scale;
  std::string pad(100'000, 'm');  // 1,000 x 100 KB = 100 MB of broadcasts
  std::size_t received = 0;
  for (std::size_t sent = 0; sent < count; sent += 5) {  // 500 KB in flight at most
    std::vector<std::future<reply_message>> replies;
    for (std::size_t i = sent; i < std::min(count, sent + 5); ++i)
      replies.push_back(fast->push("echo:mem", "blob", json::object{{"pad", pad}}));
    for (auto& f : replies) ASSERT_TRUE(await(std::move(f)).ok());
    while (fast->wait_for("echo:mem", "blob", 0ms)) ++received;
  }
  while (received < count && fast->wait_for("echo:mem", "blob", wait_limit)) ++received;
  long peak = sampler.finish();
  EXPECT_EQ(received, count) << "the fast member got every broadcast";
  expect_bounded(before, peak, bound_kib);
  ::kill(child->pid, SIGTERM);
  EXPECT_EQ(child->wait_exit(wait_limit), 0);
}

TEST(ServerMemory, FloodOfPushesKeepsOthersServedAndMemoryBounded) {
  constexpr long bound_kib = 64 * 1024;
  auto child = spawn_server({"--host", "127.0.0.1", "--port", "0"});
  auto port = listening_port(*child);
  auto flooder_socket = std::make_unique<raw_ws>(port, "/socket/websocket?vsn=2.0.0");
  auto& flooder = *flooder_socket;
  flooder.send_text(join_frame("echo:flood"));
  client::options o;
  o.port = port;
  auto other = client::connect(o);
  long before = child->rss_kib();
  rss_sampler sampler(*child);

  // The flooder reads (and discards) its replies in a thread so the flood goes on.
  std::atomic<bool> done{false};
  std::thread drain([&] {
    while (!done && !flooder.closed()) flooder.read_frame(50ms);
  });
  const std::size_t total = 1'000'000 / scale;
  std::string chunk;
  for (int i = 0; i < 10'000; ++i)
    chunk += raw_ws::text_frame(R"(["1",null,"echo:flood","f",{"x":1}])");
  std::atomic<std::size_t> sent{0};
  std::thread flood([&] {
    while (sent < total && !done) {
      if (!flooder.write_all(chunk)) break;
      sent += 10'000;
    }
  });
  // Meanwhile the other client is served: every heartbeat answered promptly.
  auto worst = 0ms;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(await(other->heartbeat()).ok());
    worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - t0));
    std::this_thread::sleep_for(50ms);
  }
  flood.join();
  done = true;
  drain.join();
  flooder_socket.reset();  // gone: its unread replies no longer hold up the shutdown
  long peak = sampler.finish();
  EXPECT_LT(worst, 2000ms) << "heartbeats waited behind the flood";
  expect_bounded(before, peak, bound_kib);
  ::kill(child->pid, SIGTERM);
  // The flooder was closed (1013) mid-flood and never answered the closing
  // handshake: shutdown may wait out its grace (5 s) for it, then drops it.
  EXPECT_EQ(child->wait_exit(2 * wait_limit), 0) << child->drain_stderr();
}

}  // namespace
}  // namespace roomcast::testing
