// Proxy channels and the connect proxy against a real backend process
// (build/bin/example-proxy-backend, see its header for its behaviour) over
// loopback HTTP: joins and events forwarded and answered, the backend's
// instructions carried out, a slow backend timing out without holding other
// topics, garbage and wrong statuses, the circuit breaker opening and closing
// around a backend that is down, the concurrency bound, and the connect proxy.
#include "integration/child_process.hpp"
#include "integration/test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct backend_process {
  std::unique_ptr<child_process> proc;
  std::uint16_t port = 0;

  explicit backend_process(std::uint16_t fixed_port = 0) {
    proc = spawn_program(ROOMCAST_PROXY_BACKEND_BIN,
                         {"--host", "127.0.0.1", "--port", std::to_string(fixed_port), "--log-level",
                          "error", "--data-dir", "/tmp"});
    port = listening_port(*proc);
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/roomcast"; }
  [[nodiscard]] json::object stats() const {
    return json::parse(http_get(port, "/stats").body).as_object();
  }
  void kill() {
    ::kill(proc->pid, SIGKILL);
    proc->wait_exit(5s);
  }
};

backend_settings settings_for(const backend_process& backend) {
  backend_settings s;
  s.url = backend.url();
  s.timeout = 3s;
  return s;
}

std::unique_ptr<server> start_gateway(const std::function<void(server&)>& configure) {
  return start_test_server({}, configure);
}

/// A WebSocket upgrade for the Phoenix socket with these query parameters.
http_result upgrade(const server& srv, const std::string& query) {
  return http_raw(srv.port(), "GET /socket/websocket?vsn=2.0.0&" + query +
                                  " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
}

std::unique_ptr<client> connect_as(const server& srv, const std::string& user = "") {
  auto o = client_options(srv);
  if (!user.empty()) o.params["user"] = user;
  return client::connect(o);
}

std::string reason_of(const reply_message& r) {
  const auto* reason = r.response.is_object() ? r.response.get_object().if_contains("reason") : nullptr;
  return reason && reason->is_string() ? std::string(reason->get_string()) : json::serialize(r.response);
}

TEST(Gateway, JoinsAndEventsAreDecidedByTheBackend) {
  backend_process backend;
  auto srv = start_gateway([&](server& s) {
    s.proxy_channel("orders:*", settings_for(backend));
    s.connect_proxy(settings_for(backend));
  });
  auto alice = connect_as(*srv, "alice");
  auto bob = connect_as(*srv, "bob");
  auto joined = join_ok(*alice, "orders:1");
  EXPECT_EQ(joined.response.at("welcome").as_string(), "orders:1");
  EXPECT_EQ(joined.response.at("user").as_string(), "alice") << "the connect proxy's user id reached the join";
  // The join's instruction runs once the joiner is in: alice hears her own
  // "joined", then bob's.
  auto own = alice->wait_for("orders:1", "joined", wait_limit);
  ASSERT_TRUE(own);
  EXPECT_EQ(own->payload.at("user").as_string(), "alice");
  join_ok(*bob, "orders:1");
  auto saw_bob = alice->wait_for("orders:1", "joined", wait_limit);
  ASSERT_TRUE(saw_bob);
  EXPECT_EQ(saw_bob->payload.at("user").as_string(), "bob");

  auto denied = await(alice->join("orders:2", json::object{{"deny", true}}));
  EXPECT_EQ(denied.status, "error");
  EXPECT_EQ(reason_of(denied), "denied");

  auto echoed = await(alice->push("orders:1", "echo", json::object{{"n", 7}}));
  EXPECT_EQ(echoed.status, "ok");
  EXPECT_EQ(echoed.response.at("n").to_number<int>(), 7);

  auto shout = await(alice->push("orders:1", "shout", json::object{{"text", "hi"}}));
  EXPECT_EQ(shout.status, "ok");
  for (auto* c : {alice.get(), bob.get()}) {
    auto heard = c->wait_for("orders:1", "shout", wait_limit);
    ASSERT_TRUE(heard);
    EXPECT_EQ(heard->payload.at("text").as_string(), "hi");
  }

  await(alice->push("orders:1", "whisper", json::object{{"to", "bob"}, {"text", "psst"}}));
  auto whispered = bob->wait_for("orders:1", "whisper", wait_limit);
  ASSERT_TRUE(whispered);
  EXPECT_EQ(whispered->payload.at("text").as_string(), "psst");
  // Alice got her reply after the push was carried out: no whisper for her.
  EXPECT_FALSE(alice->wait_for("orders:1", "whisper", 0ms));

  auto rejected = await(alice->push("orders:1", "reject", json::object{}));
  EXPECT_EQ(rejected.status, "error");
  EXPECT_EQ(reason_of(rejected), "rejected");

  auto unknown = await(alice->push("orders:1", "nonsense", json::object{}));
  EXPECT_EQ(reason_of(unknown), "unknown event");

  // noreply: no reply, but its instruction runs.
  alice->push("orders:1", "noreply", json::object{{"q", 1}});
  EXPECT_TRUE(bob->wait_for("orders:1", "quiet", wait_limit));
}

TEST(Gateway, ASlowBackendTimesOutWithoutHoldingOtherTopics) {
  backend_process backend;
  auto srv = start_gateway([&](server& s) {
    auto settings = settings_for(backend);
    settings.timeout = 400ms;
    s.proxy_channel("orders:*", settings);
  });
  auto c = connect_as(*srv);
  join_ok(*c, "orders:a");
  join_ok(*c, "orders:b");
  auto started = std::chrono::steady_clock::now();
  auto slow = c->push("orders:a", "slow", json::object{{"ms", 1500}});
  auto quick = await(c->push("orders:b", "echo", json::object{{"x", 1}}));
  EXPECT_EQ(quick.status, "ok");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 400ms) << "another topic waited for the slow call";
  auto timed_out = await(std::move(slow));
  EXPECT_EQ(timed_out.status, "error");
  EXPECT_EQ(reason_of(timed_out), "backend_timeout");
  auto join = await(c->join("orders:slow"));
  EXPECT_EQ(reason_of(join), "backend_timeout");
  // The topic still works after its timeout.
  EXPECT_EQ(await(c->push("orders:a", "echo", json::object{})).status, "ok");
}

TEST(Gateway, GarbageAndWrongStatusesAreClearErrors) {
  backend_process backend;
  auto srv = start_gateway([&](server& s) { s.proxy_channel("orders:*", settings_for(backend)); });
  auto c = connect_as(*srv);
  EXPECT_EQ(reason_of(await(c->join("orders:garbage"))), "backend_error");
  EXPECT_EQ(reason_of(await(c->join("orders:status"))), "backend_error");
  join_ok(*c, "orders:1");
  EXPECT_EQ(reason_of(await(c->push("orders:1", "garbage", json::object{}))), "backend_error");
  EXPECT_EQ(await(c->push("orders:1", "echo", json::object{})).status, "ok");
}

TEST(Gateway, TheCircuitOpensWhileTheBackendIsDownAndClosesWhenItIsBack) {
  auto port = free_port();
  auto backend = std::make_unique<backend_process>(port);
  auto srv = start_gateway([&](server& s) {
    auto settings = settings_for(*backend);
    settings.failure_threshold = 3;
    settings.open_for = 500ms;
    s.proxy_channel("orders:*", settings);
  });
  auto c = connect_as(*srv);
  join_ok(*c, "orders:1");
  backend->kill();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(reason_of(await(c->push("orders:1", "echo", json::object{}))), "backend_unavailable");
  // Open: answered at once, without a connection attempt.
  auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(reason_of(await(c->push("orders:1", "echo", json::object{}))), "backend_unavailable");
  EXPECT_LT(std::chrono::steady_clock::now() - before, 200ms);
  auto metrics = http_get(srv->port(), "/metrics").body;
  EXPECT_NE(metrics.find(R"(roomcast_backend_circuit_open{backend="orders:*"} 1)"), std::string::npos) << metrics;

  backend = std::make_unique<backend_process>(port);
  auto closed = within(5s, [&] { return await(c->push("orders:1", "echo", json::object{})).status == "ok"; });
  EXPECT_TRUE(closed) << "the circuit never closed again";
  EXPECT_NE(http_get(srv->port(), "/metrics").body.find(R"(roomcast_backend_circuit_open{backend="orders:*"} 0)"),
            std::string::npos);
}

TEST(Gateway, AtMostMaxInFlightCallsReachTheBackendAtOnce) {
  backend_process backend;
  auto srv = start_gateway([&](server& s) {
    auto settings = settings_for(backend);
    settings.max_in_flight = 2;
    s.proxy_channel("orders:*", settings);
  });
  std::vector<std::unique_ptr<client>> clients;
  std::vector<std::future<reply_message>> replies;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(connect_as(*srv));
    join_ok(*clients.back(), "orders:c" + std::to_string(i));
  }
  for (int i = 0; i < 6; ++i)
    replies.push_back(clients[i]->push("orders:c" + std::to_string(i), "slow", json::object{{"ms", 200}}));
  for (auto& r : replies) {
    ASSERT_EQ(r.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(r.get().status, "ok") << "queued calls are answered too";
  }
  EXPECT_EQ(backend.stats().at("max_in_flight").to_number<int>(), 2);
}

TEST(Gateway, TheConnectProxyDecidesWhoConnects) {
  backend_process backend;
  auto srv = start_gateway([&](server& s) { s.connect_proxy(settings_for(backend)); });
  auto refused = upgrade(*srv, "user=mallory");
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("banned"), std::string::npos) << refused.body;
  auto ok = connect_as(*srv, "carol");
  EXPECT_EQ(await(ok->heartbeat()).status, "ok");
  backend.kill();
  auto down = upgrade(*srv, "user=dave");
  EXPECT_EQ(down.status, 503);
  EXPECT_NE(down.body.find("backend_unavailable"), std::string::npos) << down.body;
}

TEST(Gateway, TheCommandLineConfiguresProxyChannels) {
  backend_process backend;
  auto child = spawn_server({"--host", "127.0.0.1", "--port", "0", "--log-level", "warn", "--data-dir",
                             "/tmp", "--proxy", "orders:*=" + backend.url(), "--proxy-timeout-ms",
                             "2000", "--connect-proxy", backend.url()});
  client::options o;
  o.port = listening_port(*child);
  o.params["user"] = "erin";
  auto c = client::connect(o);
  auto joined = join_ok(*c, "orders:cli");
  EXPECT_EQ(joined.response.at("user").as_string(), "erin");
  auto r = await(c->push("orders:cli", "echo", json::object{{"via", "cli"}}));
  EXPECT_EQ(r.response.at("via").as_string(), "cli");
  auto refused = spawn_server({"--port", "0", "--proxy", "orders:*"});
  EXPECT_EQ(refused->wait_exit(10s), 2);
}

/// Answers every join later: after `late`, with accept; records what
/// complete_join said (1: decided then, 0: already refused).
class late_channel final : public channel {
 public:
  late_channel(std::chrono::milliseconds late, std::shared_ptr<std::atomic<int>> decided)
      : late_(late), decided_(std::move(decided)) {}
  join_result on_join(const json::value&, const member& who) override {
    send_after(late_, [this, who] { decided_->store(complete_join(who, join_result::accept()) ? 1 : 0); });
    return join_result::later();
  }
  // Kept while empty, so that the late decision still runs after a refusal.
  [[nodiscard]] bool keep_when_empty() const override { return true; }

 private:
  std::chrono::milliseconds late_;
  std::shared_ptr<std::atomic<int>> decided_;
};

TEST(Gateway, AJoinNeverDecidedInTimeIsRefusedAndALateDecisionIgnored) {
  auto decided = std::make_shared<std::atomic<int>>(-1);
  server_options options;
  options.join_timeout = 300ms;
  auto srv = start_test_server(options, [&](server& s) {
    s.channel("late:*", [decided](std::string_view) {
      return std::make_unique<late_channel>(std::chrono::milliseconds(700), decided);
    });
    s.channel("soon:*", [decided](std::string_view) {
      return std::make_unique<late_channel>(std::chrono::milliseconds(50), decided);
    });
  });
  auto c = connect(*srv);
  auto refused = await(c->join("late:1"));
  EXPECT_EQ(refused.status, "error");
  EXPECT_EQ(reason_of(refused), "join timeout");
  ASSERT_TRUE(within(3s, [&] { return decided->load() != -1; }));
  EXPECT_EQ(decided->load(), 0) << "the room had already refused the join";
  decided->store(-1);
  EXPECT_EQ(await(c->join("soon:1")).status, "ok");
  EXPECT_EQ(decided->load(), 1);
}

TEST(Gateway, ABadBackendUrlIsRefusedAtConfiguration) {
  server srv;
  backend_settings bad;
  bad.url = "https://example.com/x";
  EXPECT_THROW(srv.proxy_channel("orders:*", bad), std::invalid_argument);
  bad.url = "http://127.0.0.1:0/x";
  EXPECT_THROW(srv.connect_proxy(bad), std::invalid_argument);
}

}  // namespace
}  // namespace roomcast::testing
