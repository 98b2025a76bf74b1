#pragma once
// The store's schema and its migrations. A database records its version in
// schema_version; opening runs every migration above it, each in one
// transaction, so an interrupted upgrade leaves the last complete version.

#include "store/sqlite.hpp"

namespace roomcast::store {

/// The version this build writes.
inline constexpr int schema_version = 2;

/// Brings `db` up to schema_version and returns the version it started from
/// (0 for a new database). Throws sqlite_error, or std::runtime_error for a
/// database written by a newer Roomcast.
int migrate(database& db);

}  // namespace roomcast::store
