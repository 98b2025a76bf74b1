#pragma once
// Durable topics: which topics keep history, for how long, and what a stored
// message looks like. See docs/durability.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace roomcast {

/// How much history a durable topic keeps; 0 means no bound of that kind.
struct retention {
  std::uint64_t max_messages = 10'000;
  std::chrono::seconds max_age{0};
};

/// Topics matching `pattern` ("room:*", or an exact name) are durable.
struct durable_rule {
  std::string pattern;
  retention keep;
};

/// What SQLite promises once a commit returns.
enum class store_sync {
  normal,  ///< survives the process being killed, not the machine losing power
  full,    ///< the WAL is fsynced at every commit: survives power loss too
};

struct store_options {
  /// The database file; empty: "roomcast.db" in server_options::data_dir.
  std::string path;
  /// Durable topic patterns. A channel can also declare itself durable.
  std::vector<durable_rule> durable;
  /// Retention of durable topics that match no rule (channels that declare
  /// themselves durable).
  retention default_retention;
  store_sync sync = store_sync::full;
  /// Broadcasts committed in one transaction at most (group commit).
  std::size_t max_batch = 4'096;
  /// How long a write waits for a lock held by another process before it fails.
  std::chrono::milliseconds busy_timeout{2'000};
  /// Size quota for the database file; past it writes fail as a full disk
  /// would. 0: no quota.
  std::uint64_t max_bytes = 0;
  /// How often messages older than their topic's max_age are deleted.
  std::chrono::milliseconds sweep_interval{10'000};
  /// A rejoin with {"since": N} replays at most this many messages (the latest);
  /// with more missed, the reply says "recovered": false.
  std::size_t max_replay = 10'000;
};

/// One stored broadcast.
struct stored_message {
  std::uint64_t seq = 0;
  std::string event;
  std::string payload;  ///< JSON object text, including "seq"
  std::int64_t ts_ms = 0;  ///< commit time, milliseconds since the Unix epoch
};

/// A slice of a topic's history, oldest first.
struct history_page {
  std::vector<stored_message> messages;
  std::uint64_t oldest_seq = 0;  ///< oldest seq still stored (last_seq + 1 when none)
  std::uint64_t last_seq = 0;    ///< the topic's latest seq (0: nothing ever stored)
};

}  // namespace roomcast
