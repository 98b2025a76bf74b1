#pragma once
// A thin RAII layer over the SQLite C API: one database handle, prepared
// statements that reset themselves, and errors as exceptions carrying SQLite's
// result code (so callers can tell "disk full" from "locked" from "corrupt").

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace roomcast::store {

class sqlite_error : public std::runtime_error {
 public:
  sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  /// The primary SQLite result code (SQLITE_FULL, SQLITE_BUSY, SQLITE_NOTADB, ...).
  [[nodiscard]] int code() const noexcept { return code_; }

 private:
  int code_;
};

class statement;

class database {
 public:
  /// Opens (creating if needed) the file at `path`. Throws sqlite_error.
  explicit database(const std::string& path);
  database(const database&) = delete;
  database& operator=(const database&) = delete;
  database(database&&) noexcept = default;
  database& operator=(database&&) noexcept = default;

  /// Runs one or more statements without results.
  void exec(std::string_view sql);
  [[nodiscard]] statement prepare(std::string_view sql);
  /// Runs `sql` (a query yielding one integer, e.g. a PRAGMA) and returns it.
  [[nodiscard]] std::int64_t query_int(std::string_view sql);
  void busy_timeout(int milliseconds);
  /// The rowid of the last INSERT.
  [[nodiscard]] std::int64_t last_insert_id() const noexcept;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t changes() const noexcept;
  [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }
  /// Throws sqlite_error for `rc` with this connection's message.
  [[noreturn]] void fail(int rc, std::string_view context) const;

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept;
  };
  std::unique_ptr<sqlite3, closer> db_;
};

/// A prepared statement; bind, step until done, and it resets itself for reuse.
class statement {
 public:
  statement(database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}

  statement& bind(int index, std::int64_t value);
  /// Not copied: `text` must stay alive until the statement is reset (run()
  /// and the end of a step loop reset it).
  statement& bind(int index, std::string_view text);
  /// Steps once: true while a row is available, false when done.
  bool step();
  /// Runs to completion (for statements without rows), then resets.
  void run();
  void reset() noexcept;

  [[nodiscard]] std::int64_t column_int(int index) const;
  [[nodiscard]] std::string column_text(int index) const;
  [[nodiscard]] bool column_is_null(int index) const;

 private:
  struct finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  database* db_;
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

/// Runs `body` in BEGIN IMMEDIATE ... COMMIT; rolls back if it throws.
template <class F>
void in_transaction(database& db, F&& body) {
  db.exec("BEGIN IMMEDIATE");
  try {
    body();
    db.exec("COMMIT");
  } catch (...) {
    try {
      db.exec("ROLLBACK");
    } catch (...) {  // a failed COMMIT may already have rolled back
    }
    throw;
  }
}

}  // namespace roomcast::store
