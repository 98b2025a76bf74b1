// Storage faults with a real SQLite file: a full database, a lock held by
// another process, a corrupt file. Pushers get "storage_unavailable", nothing
// unacknowledged is delivered, other topics keep working, readiness turns false
// and comes back when storage does.
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>
#include <sqlite3.h>

#include <fstream>
#include <thread>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

server_options faulty_store_options(const temp_dir& dir) {
  server_options o;
  o.data_dir = dir.path();
  o.store.durable.push_back({"echo:*", {}});
  o.store.busy_timeout = 100ms;
  return o;
}

/// Polls /readyz until it answers `status`, bounded.
bool wait_ready_status(const server& srv, int status) {
  auto deadline = std::chrono::steady_clock::now() + wait_limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_get(srv.port(), "/readyz").status == status) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void expect_other_topics_work(server& srv) {
  auto c = connect(srv);
  join_ok(*c, "room:unaffected");
  auto r = await(c->push("room:unaffected", "shout", json::object{{"still", "here"}}));
  EXPECT_TRUE(r.ok()) << r.reason();
  EXPECT_TRUE(c->wait_for("room:unaffected", "shout", wait_limit));
}

/// An external connection to the same database file (another process, in effect).
class foreign_connection {
 public:
  explicit foreign_connection(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error("open failed");
  }
  ~foreign_connection() { sqlite3_close(db_); }
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      throw std::runtime_error(sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

TEST(DurableFaults, AFullDatabaseRefusesDurablePushesOnly) {
  temp_dir dir;
  auto o = faulty_store_options(dir);
  o.store.max_bytes = 96 * 1024;
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  auto listener = connect(*srv);
  join_ok(*c, "echo:full");
  join_ok(*listener, "echo:full");
  std::string pad(4000, 'x');
  std::uint64_t acked = 0;
  reply_message refused;
  for (int i = 0; i < 200; ++i) {
    auto r = await(c->push("echo:full", "msg", json::object{{"pad", pad}}));
    if (!r.ok()) {
      refused = r;
      break;
    }
    acked = r.response.at("seq").to_number<std::uint64_t>();
  }
  ASSERT_EQ(refused.status, "error") << "the quota never filled";
  EXPECT_EQ(refused.reason(), "storage_unavailable");
  EXPECT_GT(acked, 0u);
  EXPECT_FALSE(srv->storage_healthy());
  EXPECT_EQ(http_get(srv->port(), "/readyz").status, 503);
  EXPECT_GT(srv->stats().storage_failures, 0u);
  // The listener got exactly what was acknowledged, nothing of the refused push.
  for (std::uint64_t seq = 1; seq <= acked; ++seq) {
    auto m = listener->wait_for("echo:full", "msg", wait_limit);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload.at("seq"), seq);
  }
  EXPECT_FALSE(listener->wait_for("echo:full", "msg", 200ms));
  EXPECT_EQ(srv->history("echo:full", 0, 1000).last_seq, acked);
  expect_other_topics_work(*srv);
}

TEST(DurableFaults, ALockedDatabaseFailsPushesUntilTheLockGoes) {
  temp_dir dir;
  auto srv = start_test_server(faulty_store_options(dir));
  auto c = connect(*srv);
  join_ok(*c, "echo:locked");
  ASSERT_TRUE(await(c->push("echo:locked", "msg")).ok());
  {
    foreign_connection other(dir.file("roomcast.db"));
    other.exec("BEGIN IMMEDIATE");  // holds the write lock
    auto r = await(c->push("echo:locked", "msg"));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.reason(), "storage_unavailable");
    EXPECT_EQ(http_get(srv->port(), "/readyz").status, 503);
    expect_other_topics_work(*srv);
    other.exec("ROLLBACK");
  }
  // A probe notices the lock is gone; the next push continues the numbering.
  EXPECT_TRUE(wait_ready_status(*srv, 200));
  auto r = await(c->push("echo:locked", "msg"));
  ASSERT_TRUE(r.ok()) << r.reason();
  EXPECT_EQ(r.response.at("seq"), 2);
}

TEST(DurableFaults, ACorruptFileKeepsTheServerUpButNotReady) {
  temp_dir dir;
  {
    std::ofstream out(dir.file("roomcast.db"), std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "definitely not an SQLite file ";
  }
  auto srv = start_test_server(faulty_store_options(dir));
  EXPECT_TRUE(wait_ready_status(*srv, 503));
  auto c = connect(*srv);
  join_ok(*c, "echo:corrupt");
  auto r = await(c->push("echo:corrupt", "msg"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), "storage_unavailable");
  // A join asking for history is still accepted, and says it could not recover.
  auto other = connect(*srv);
  auto joined = join_ok(*other, "echo:corrupt", json::object{{"since", 0}});
  EXPECT_EQ(joined.response.at("recovered"), false);
  EXPECT_EQ(joined.response.at("history_error"), "storage_unavailable");
  expect_other_topics_work(*srv);
}

}  // namespace
}  // namespace roomcast::testing
