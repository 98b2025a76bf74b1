#pragma once
// The node's store actor: detached (SQLite may block), the only owner of the
// database connection. Rooms send it their durable broadcasts; it commits them
// in groups (one transaction for everything that queued up while the previous
// commit ran, bounded by store_options::max_batch) and answers each room with
// the first seq of its group only after the commit.
//
//   (append_atom, append_group)                  -> std::uint64_t first seq
//   (read_atom, topic, since, limit, latest)     -> roomcast::history_page
//   (stop_atom)                                   commits what is pending, quits
//
// Failures (disk full, locked, corrupt, unopenable) answer with an error; the
// shared store_health turns unhealthy until a write or a probe succeeds again.

#include "actors/messages.hpp"
#include "roomcast/durability.hpp"
#include "metrics/histogram.hpp"
#include "store/message_store.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <memory>

namespace roomcast::store {

using append_atom = caf::atom_constant<caf::atom("append")>;  // room -> store
using read_atom = caf::atom_constant<caf::atom("read")>;      // room/server -> store
using commit_atom = caf::atom_constant<caf::atom("commit")>;  // store -> itself
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;    // store -> itself
using probe_atom = caf::atom_constant<caf::atom("probe")>;    // store -> itself

/// Readable from any thread (readiness, metrics).
struct store_health {
  std::atomic<bool> healthy{true};
  std::atomic<std::uint64_t> commits{0};             ///< transactions committed
  std::atomic<std::uint64_t> committed_messages{0};  ///< messages they held
  std::atomic<std::uint64_t> failed_messages{0};     ///< answered storage_unavailable
  metrics::histogram commit_latency;                 ///< one transaction, begin to commit
};

/// The text of the error every failed store request carries.
inline constexpr const char* unavailable = "storage_unavailable";

/// Spawns the store actor (detached). It opens the database at once when
/// `open_now`, else on first use.
caf::actor spawn_store(caf::actor_system& system, std::string path, store_options options,
                       std::shared_ptr<store_health> health, bool open_now);

}  // namespace roomcast::store

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::store::append_group)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::history_page)
