// GET /metrics after a scripted session: the values move as the session did.
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>

#include <map>
#include <sstream>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

/// "name{labels}" -> value, from one scrape.
std::map<std::string, double> scrape(const server& srv) {
  auto r = http_get(srv.port(), "/metrics");
  EXPECT_EQ(r.status, 200);
  std::map<std::string, double> values;
  std::istringstream lines(r.body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    values[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return values;
}

TEST(Metrics, ValuesFollowAScriptedSession) {
  temp_dir dir;
  server_options o;
  o.data_dir = dir.path();
  o.store.durable.push_back({"journal:*", {}});
  auto srv = start_test_server(o);
  auto before = scrape(*srv);
  EXPECT_EQ(before["roomcast_connections"], 0);
  EXPECT_EQ(before["roomcast_ready"], 1);

  auto a = connect(*srv);
  auto b = connect(*srv);
  join_ok(*a, "room:m");
  join_ok(*b, "room:m");
  ASSERT_TRUE(await(a->push("room:m", "shout", json::object{{"x", 1}})).ok());
  ASSERT_TRUE(b->wait_for("room:m", "shout", wait_limit));
  ASSERT_TRUE(a->wait_for("room:m", "shout", wait_limit));
  join_ok(*a, "journal:m");
  ASSERT_TRUE(await(a->push("journal:m", "say", json::object{{"y", 2}})).ok());
  auto during = scrape(*srv);
  EXPECT_EQ(during["roomcast_connections"], 2);
  EXPECT_EQ(during["roomcast_connections_opened_total"], 2);
  EXPECT_EQ(during["roomcast_joins_total"], 3);
  EXPECT_EQ(during["roomcast_rooms"], 2);
  EXPECT_GE(during["roomcast_messages_in_total"], 5);  // 3 joins + 2 pushes
  EXPECT_GT(during["roomcast_bytes_in_total"], during["roomcast_messages_in_total"]);
  EXPECT_GE(during["roomcast_messages_out_total"], 7);  // replies and broadcasts
  // room:* announces each join to the members already there: "someone_joined" to
  // nobody, then to a; then "shout" to both; then the durable "say" to a.
  EXPECT_EQ(during["roomcast_broadcasts_total"], 4);
  EXPECT_EQ(during["roomcast_deliveries_total"], 4);
  EXPECT_GE(during["roomcast_fanout_latency_seconds_count"], 3);
  EXPECT_EQ(during["roomcast_durable_messages_total"], 1);
  EXPECT_EQ(during["roomcast_durable_commit_seconds_count"], 1);
  EXPECT_GE(during["roomcast_mailbox_high_water{actor=\"room\"}"], 0);

  b->close(1000);
  a.reset();  // the client's destructor closes with 1000 too
  bool closed = false;
  for (int i = 0; i < 200 && !closed; ++i) {
    auto now = scrape(*srv);
    closed = now["roomcast_connections"] == 0;
    if (closed) {
      EXPECT_EQ(now["roomcast_connections_closed_total{reason=\"normal\"}"], 2)
          << "both clients closed normally";
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(closed);
  auto text = http_get(srv->port(), "/metrics").body;
  EXPECT_EQ(text.find("# HELP roomcast_connections "), 0u);
  EXPECT_NE(text.find("# TYPE roomcast_connections gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace roomcast::testing
