#pragma once
// Backpressure vocabulary: what happens to a frame when its socket's outbound
// backlog is over budget, and the counters of every drop, close and refusal.

#include <cstddef>
#include <cstdint>

namespace roomcast {

/// Applied to a frame that would take its socket's unsent backlog over
/// server_options::outbound_budget_bytes.
enum class overflow_policy : std::uint8_t {
  close,        ///< close the socket: 1013 "client too slow" (replies always use this)
  drop,         ///< drop this frame; the client is told how many it missed
  drop_oldest,  ///< drop older droppable frames still queued (state snapshots)
};

/// What push() and send() report, like uWebSockets: the frame went out to an
/// idle socket, waits behind unsent frames, or will not be delivered (dropped by
/// its policy, or the socket is being closed for being too slow). An estimate:
/// the socket may drain or fill up while the frame is on its way.
enum class send_status : std::uint8_t { success, backpressure, dropped };

/// What broadcast() reports: how many members got each outcome.
struct broadcast_result {
  std::size_t success = 0;
  std::size_t backpressure = 0;
  std::size_t dropped = 0;
};

/// A snapshot of the server's counters (server::stats()).
struct server_stats {
  std::uint64_t frames_dropped = 0;           ///< by drop / drop_oldest policies
  std::uint64_t backpressure_closes = 0;      ///< sockets closed with 1013 (too slow)
  std::uint64_t rate_limited_pushes = 0;      ///< pushes answered "rate_limited"
  std::uint64_t rate_limit_closes = 0;        ///< sockets closed with 1008 for abuse
  std::uint64_t overloaded_pushes = 0;        ///< pushes answered "overloaded"
  std::uint64_t oversized_payloads = 0;       ///< pushes answered "payload too large"
  std::uint64_t refused_node_limit = 0;       ///< upgrades refused with 503
  std::uint64_t refused_ip_limit = 0;         ///< upgrades refused with 429
  std::uint64_t oversized_frames = 0;         ///< sockets closed with 1009
  std::uint64_t storage_failures = 0;         ///< durable broadcasts not stored (storage_unavailable)
};

}  // namespace roomcast
