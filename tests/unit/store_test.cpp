// The message store against a real SQLite file in a fresh temporary directory.
#include "store/message_store.hpp"
#include "store/schema.hpp"
#include "common/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

namespace roomcast::store {
namespace {

using roomcast::testing::temp_dir;

store_options fast_options() {
  store_options o;
  o.sync = store_sync::normal;
  o.busy_timeout = std::chrono::milliseconds(50);
  return o;
}

append_group group(std::string topic, int n, const std::string& event = "msg") {
  append_group g{std::move(topic), {}};
  for (int i = 0; i < n; ++i) g.records.push_back({event, "{\"n\":" + std::to_string(i) + "}"});
  return g;
}

TEST(WithSeq, PutsSeqFirst) {
  EXPECT_EQ(with_seq("{}", 7), R"({"seq":7})");
  EXPECT_EQ(with_seq(R"({"a":1})", 12), R"({"seq":12,"a":1})");
}

TEST(MessageStore, SeqsArePerTopicConsecutiveAndSurviveReopen) {
  temp_dir dir;
  auto path = dir.file("db/roomcast.db");  // the directory is created
  {
    message_store s(path, fast_options());
    s.open();
    auto firsts = s.append({group("a", 3), group("b", 2), group("a", 1)}, 1000);
    EXPECT_EQ(firsts, (std::vector<std::uint64_t>{1, 1, 4}));
  }
  message_store s(path, fast_options());
  s.open();
  EXPECT_EQ(s.append({group("a", 1), group("b", 1)}, 2000), (std::vector<std::uint64_t>{5, 3}));
  auto page = s.read("a", 0, 100);
  ASSERT_EQ(page.messages.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(page.messages[i].seq, i + 1);
  EXPECT_EQ(page.messages[0].payload, R"({"seq":1,"n":0})");
  EXPECT_EQ(page.messages[0].event, "msg");
  EXPECT_EQ(page.messages[0].ts_ms, 1000);
  EXPECT_EQ(page.oldest_seq, 1u);
  EXPECT_EQ(page.last_seq, 5u);
}

TEST(MessageStore, ReadReturnsTheLatestAfterSinceOldestFirst) {
  temp_dir dir;
  message_store s(dir.file("r.db"), fast_options());
  s.open();
  s.append({group("t", 10)}, 0);
  auto latest = s.read("t", 4, 3, true);  // latest three after 4: 8, 9, 10
  ASSERT_EQ(latest.messages.size(), 3u);
  EXPECT_EQ(latest.messages.front().seq, 8u);
  EXPECT_EQ(latest.messages.back().seq, 10u);
  auto forward = s.read("t", 4, 3);  // a page forward: 5, 6, 7
  ASSERT_EQ(forward.messages.size(), 3u);
  EXPECT_EQ(forward.messages.front().seq, 5u);
  EXPECT_EQ(forward.messages.back().seq, 7u);
  EXPECT_TRUE(s.read("t", 10, 5).messages.empty());
  auto unknown = s.read("nothing", 0, 5);
  EXPECT_TRUE(unknown.messages.empty());
  EXPECT_EQ(unknown.last_seq, 0u);
  EXPECT_EQ(unknown.oldest_seq, 1u);
}

TEST(MessageStore, CountRetentionKeepsTheLastN) {
  temp_dir dir;
  auto o = fast_options();
  o.durable.push_back({"short:*", retention{5, std::chrono::seconds(0)}});
  message_store s(dir.file("c.db"), o);
  s.open();
  s.append({group("short:1", 12), group("long", 12)}, 0);
  auto page = s.read("short:1", 0, 100);
  ASSERT_EQ(page.messages.size(), 5u);
  EXPECT_EQ(page.oldest_seq, 8u);
  EXPECT_EQ(page.last_seq, 12u);
  EXPECT_EQ(s.read("long", 0, 100).messages.size(), 12u);  // default retention: 10,000
}

TEST(MessageStore, AgeRetentionSweepsAndNumberingContinues) {
  temp_dir dir;
  auto o = fast_options();
  o.durable.push_back({"aging", retention{0, std::chrono::seconds(60)}});
  message_store s(dir.file("a.db"), o);
  s.open();
  s.append({group("aging", 3)}, 1'000);
  s.append({group("aging", 2)}, 50'000);
  EXPECT_EQ(s.sweep(61'500), 3u);  // the first three are older than 60 s
  auto page = s.read("aging", 0, 100);
  ASSERT_EQ(page.messages.size(), 2u);
  EXPECT_EQ(page.oldest_seq, 4u);
  EXPECT_EQ(s.sweep(200'000), 2u);  // everything gone...
  EXPECT_EQ(s.read("aging", 0, 100).oldest_seq, 6u);
  s.close();
  s.open();
  EXPECT_EQ(s.append({group("aging", 1)}, 200'000).front(), 6u);  // ...numbering is not reset
}

TEST(Schema, MigratesAnEmptyDatabase) {
  temp_dir dir;
  database db(dir.file("m.db"));
  EXPECT_EQ(migrate(db), 0);
  EXPECT_EQ(db.query_int("SELECT version FROM schema_version"), schema_version);
  EXPECT_EQ(migrate(db), schema_version);  // idempotent
}

TEST(Schema, MigratesAVersion1DatabaseKeepingItsNumbering) {
  temp_dir dir;
  auto path = dir.file("v1.db");
  {
    // What a version-1 database holds: messages only, numbering derived from max(seq).
    database db(path);
    db.exec(R"sql(
      CREATE TABLE schema_version (version INTEGER NOT NULL);
      INSERT INTO schema_version VALUES (1);
      CREATE TABLE messages (topic TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
                             payload TEXT NOT NULL, ts_ms INTEGER NOT NULL,
                             PRIMARY KEY (topic, seq)) WITHOUT ROWID;
      INSERT INTO messages VALUES ('old', 41, 'msg', '{"seq":41}', 5);
      INSERT INTO messages VALUES ('old', 42, 'msg', '{"seq":42}', 6);
    )sql");
  }
  message_store s(path, fast_options());
  s.open();
  EXPECT_EQ(s.append({group("old", 1)}, 7).front(), 43u);
  auto page = s.read("old", 0, 10);
  ASSERT_EQ(page.messages.size(), 3u);
  EXPECT_EQ(page.messages.front().payload, R"({"seq":41})");
  database check(path);
  EXPECT_EQ(check.query_int("SELECT version FROM schema_version"), schema_version);
}

TEST(Schema, RefusesADatabaseFromANewerBuild) {
  temp_dir dir;
  auto path = dir.file("new.db");
  {
    database db(path);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99);");
  }
  message_store s(path, fast_options());
  EXPECT_THROW(s.open(), std::runtime_error);
  EXPECT_FALSE(s.is_open());
}

TEST(MessageStoreFaults, AFullDatabaseFailsTheWholeBatchAndStoresNothing) {
  temp_dir dir;
  auto o = fast_options();
  o.max_bytes = 64 * 1024;  // a quota fails writes the way a full disk does
  message_store s(dir.file("full.db"), o);
  s.open();
  s.append({group("t", 2)}, 0);
  append_group big{"t", {}};
  for (int i = 0; i < 200; ++i) big.records.push_back({"msg", "{\"pad\":\"" + std::string(1000, 'x') + "\"}"});
  try {
    s.append({group("other", 1), big}, 0);
    FAIL() << "the quota was not enforced";
  } catch (const sqlite_error& e) {
    EXPECT_EQ(e.code(), SQLITE_FULL) << e.what();
  }
  EXPECT_EQ(s.read("t", 0, 1000).last_seq, 2u);      // nothing of the batch was kept
  EXPECT_EQ(s.read("other", 0, 10).last_seq, 0u);
  EXPECT_EQ(s.append({group("t", 1)}, 0).front(), 3u);  // and numbering has no hole
}

TEST(MessageStoreFaults, ALockHeldByAnotherProcessFailsAfterTheBusyTimeout) {
  temp_dir dir;
  auto path = dir.file("locked.db");
  message_store s(path, fast_options());
  s.open();
  s.append({group("t", 1)}, 0);
  database other(path);
  other.exec("BEGIN IMMEDIATE");  // holds the write lock
  try {
    s.append({group("t", 1)}, 0);
    FAIL() << "the write went through a held lock";
  } catch (const sqlite_error& e) {
    EXPECT_EQ(e.code(), SQLITE_BUSY) << e.what();
  }
  other.exec("ROLLBACK");
  EXPECT_EQ(s.append({group("t", 1)}, 0).front(), 2u);
}

TEST(MessageStoreFaults, ACorruptFileDoesNotOpen) {
  temp_dir dir;
  auto path = dir.file("corrupt.db");
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 512; ++i) out << "this is not an SQLite database ";
  }
  message_store s(path, fast_options());
  try {
    s.open();
    FAIL() << "a corrupt file opened";
  } catch (const sqlite_error& e) {
    EXPECT_EQ(e.code(), SQLITE_NOTADB) << e.what();
  }
  EXPECT_FALSE(s.is_open());
}

}  // namespace
}  // namespace roomcast::store
