// Remote channels: a channel written with the ordinary API runs in another
// process (build/bin/example-remote-service, a service node serving svc:*),
// while gateway nodes (build/bin/roomcast --remote-channel 'svc:*') hold the
// sockets. Members on two gateways share the service's room; when the service
// is killed its members get phx_error and joins are refused until it is back;
// then they join again and are served by the new process.
#include "cluster/cluster_nodes.hpp"
#include "integration/test_server.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <signal.h>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::vector<std::string> gateway_flags{"--remote-channel", "svc:*"};

std::string reason_of(const reply_message& r) {
  const auto* reason = r.response.is_object() ? r.response.get_object().if_contains("reason") : nullptr;
  return reason && reason->is_string() ? std::string(reason->get_string()) : json::serialize(r.response);
}

struct service_cluster : ::testing::Test {
  node a, b, service;
  std::uint16_t service_port = 0;
  void SetUp() override {
    a = start_node({}, 0, gateway_flags);
    b = start_node({a.name}, 0, gateway_flags);
    service_port = free_port();
    service = start_program_node(ROOMCAST_REMOTE_SERVICE_BIN, {a.name}, service_port,
                                 {"--serves", "svc:*"});
    auto all = names({&a, &b, &service});
    for (const node* n : {&a, &b, &service})
      ASSERT_TRUE(within(5s, [&] { return n->members() == all; })) << json::serialize(n->cluster());
  }
};

TEST_F(service_cluster, TheServiceOwnsItsTopicsAndNoOthers) {
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(a.owner("svc:" + std::to_string(i)), service.name);
    EXPECT_EQ(b.owner("svc:" + std::to_string(i)), service.name);
    EXPECT_NE(a.owner("echo:" + std::to_string(i)), service.name) << "a service node took a general topic";
  }
}

TEST_F(service_cluster, MembersOnTwoGatewaysShareTheServicesRoom) {
  auto on_a = a.connect();
  auto on_b = b.connect();
  auto joined = join_ok(*on_a, "svc:counter", json::object{{"user", "ann"}});
  auto pid = joined.response.at("served_by").to_number<std::int64_t>();
  EXPECT_EQ(pid, service.proc->pid) << "the channel ran in the service process";
  join_ok(*on_b, "svc:counter", json::object{{"user", "ben"}});
  auto r1 = await(on_a->push("svc:counter", "inc", json::object{}));
  auto r2 = await(on_b->push("svc:counter", "inc", json::object{}));
  EXPECT_EQ(r1.response.at("count").to_number<int>(), 1);
  EXPECT_EQ(r2.response.at("count").to_number<int>(), 2);
  for (auto* c : {on_a.get(), on_b.get()}) {
    auto first = c->wait_for("svc:counter", "count", wait_limit);
    auto second = c->wait_for("svc:counter", "count", wait_limit);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(second->payload.at("count").to_number<int>(), 2);
  }
  // The service's presence covers both gateways.
  auto state = on_b->wait_for("svc:counter", "presence_state", wait_limit);
  ASSERT_TRUE(state);
  EXPECT_TRUE(within(3s, [&] {
    auto res = http_get(a.http_port, "/api/topics/svc:counter/presence",
                        std::string("Authorization: Bearer ") + cluster_api_key + "\r\n");
    auto body = json::parse(res.body);
    const auto& p = body.at("presences").as_object();
    return p.contains("ann") && p.contains("ben");
  }));
}

TEST_F(service_cluster, AHungServiceGivesPhxErrorOnceTheMembershipDropsIt) {
  auto c = a.connect();
  join_ok(*c, "svc:hang");
  ASSERT_EQ(::kill(service.proc->pid, SIGSTOP), 0);
  // The membership drops the node after about 3 s (heartbeat 0.5 s + failure
  // timeout 2.5 s). With no service left, the relay ends as a crash would:
  // phx_error then, not after a move's 10 s of retries.
  auto told = c->wait_for("svc:hang", "phx_error", 7s);
  ASSERT_EQ(::kill(service.proc->pid, SIGCONT), 0);
  EXPECT_TRUE(told) << "the member was not told in time";
}

TEST_F(service_cluster, WhenTheServiceDiesMembersGetPhxErrorAndRejoinOnceItIsBack) {
  auto c = a.connect();
  join_ok(*c, "svc:crash");
  EXPECT_EQ(await(c->push("svc:crash", "inc", json::object{})).response.at("count").to_number<int>(), 1);
  ASSERT_EQ(::kill(service.proc->pid, SIGKILL), 0);
  service.proc->wait_exit(5s);
  EXPECT_TRUE(c->wait_for("svc:crash", "phx_error", 5s)) << "the member was not told";
  // Down: joins are refused at once, nothing else serves the topic.
  auto refused = await(c->join("svc:crash"));
  EXPECT_EQ(refused.status, "error");
  EXPECT_EQ(reason_of(refused), "owner unreachable");
  // Back (same cluster port, a new process): a join (phoenix.js retries by itself) is served.
  auto again = start_program_node(ROOMCAST_REMOTE_SERVICE_BIN, {a.name}, service_port, {"--serves", "svc:*"});
  auto served = within(10s, [&] {
    auto r = c->join("svc:crash").get();
    return r.status == "ok" && r.response.at("served_by").to_number<std::int64_t>() == again.proc->pid;
  });
  ASSERT_TRUE(served) << "never served again";
  auto r = await(c->push("svc:crash", "inc", json::object{}));
  EXPECT_EQ(r.response.at("count").to_number<int>(), 1) << "in-memory state starts again with the process";
}

TEST(RemoteChannel, WithoutAServiceNodeJoinsAreRefused) {
  auto alone = start_node({}, 0, gateway_flags);
  auto c = alone.connect();
  auto r = await(c->join("svc:nobody"));
  EXPECT_EQ(reason_of(r), "owner unreachable");
  EXPECT_EQ(alone.owner("svc:nobody"), "");
}

}  // namespace
}  // namespace roomcast::testing
