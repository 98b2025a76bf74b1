#include "store/sqlite.hpp"

#include <sqlite3.h>

namespace roomcast::store {

void database::closer::operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
void statement::finalizer::operator()(sqlite3_stmt* stmt) const noexcept {
  sqlite3_finalize(stmt);
}

database::database(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  db_.reset(raw);  // closed even when opening failed
  if (rc != SQLITE_OK) fail(rc, "open " + path);
  sqlite3_extended_result_codes(raw, 0);
}

void database::fail(int rc, std::string_view context) const {
  std::string what(context);
  what += ": ";
  what += db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc);
  throw sqlite_error(rc & 0xff, what);
}

void database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, text);
}

statement database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  return statement(*this, stmt);
}

std::int64_t database::query_int(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt.step()) throw sqlite_error(SQLITE_ERROR, std::string(sql) + ": no row");
  auto value = stmt.column_int(0);
  stmt.reset();
  return value;
}

void database::busy_timeout(int milliseconds) { sqlite3_busy_timeout(db_.get(), milliseconds); }

std::int64_t database::last_insert_id() const noexcept {
  return sqlite3_last_insert_rowid(db_.get());
}

std::int64_t database::changes() const noexcept { return sqlite3_changes64(db_.get()); }

statement& statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()),
                             SQLITE_STATIC);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  reset();
  db_->fail(rc, sqlite3_sql(stmt_.get()));
}

void statement::run() {
  while (step()) {
  }
  reset();
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

std::int64_t statement::column_int(int index) const {
  return sqlite3_column_int64(stmt_.get(), index);
}

std::string statement::column_text(int index) const {
  auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), index));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), index)))
              : std::string();
}

bool statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL;
}

}  // namespace roomcast::store
