#pragma once
// The live counters behind server_stats: relaxed atomics, cheap on hot paths,
// shared by the socket layer, the actors and the gateway of one server.

#include "metrics/histogram.hpp"
#include "roomcast/backpressure.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace roomcast::util {

struct counters {
  std::atomic<std::uint64_t> frames_dropped{0};
  std::atomic<std::uint64_t> backpressure_closes{0};
  std::atomic<std::uint64_t> rate_limited_pushes{0};
  std::atomic<std::uint64_t> rate_limit_closes{0};
  std::atomic<std::uint64_t> overloaded_pushes{0};
  std::atomic<std::uint64_t> oversized_payloads{0};
  std::atomic<std::uint64_t> refused_node_limit{0};
  std::atomic<std::uint64_t> refused_ip_limit{0};
  std::atomic<std::uint64_t> oversized_frames{0};
  std::atomic<std::uint64_t> storage_failures{0};
  std::atomic<std::uint64_t> refused_tokens{0};  ///< upgrades refused 401 for their token

  // -- traffic and lifecycle, for /metrics ------------------------------------------
  /// How a connection ended, by the close code that ended it.
  enum close_kind : std::size_t {
    closed_normal, closed_going_away, closed_policy_violation, closed_too_big,
    closed_internal_error, closed_service_restart, closed_try_again_later,
    closed_abnormal, closed_other, close_kinds
  };
  static close_kind kind_of(std::uint16_t code) {
    switch (code) {
      case 1000: return closed_normal;
      case 1001: return closed_going_away;
      case 1008: return closed_policy_violation;
      case 1009: return closed_too_big;
      case 1011: return closed_internal_error;
      case 1012: return closed_service_restart;
      case 1013: return closed_try_again_later;
      case 1006: return closed_abnormal;
      default: return closed_other;
    }
  }
  static constexpr std::array<std::string_view, close_kinds> close_kind_names = {
      "normal", "going_away", "policy_violation", "too_big", "internal_error",
      "service_restart", "try_again_later", "abnormal", "other"};

  std::atomic<std::uint64_t> connections_opened{0};
  std::array<std::atomic<std::uint64_t>, close_kinds> connections_closed{};
  std::atomic<std::uint64_t> joins{0};
  std::atomic<std::int64_t> rooms{0};  ///< a gauge
  std::atomic<std::int64_t> sockets_parked{0};  ///< a gauge: idle sockets without stream state
  std::atomic<std::uint64_t> messages_in{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> messages_out{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> broadcasts{0};
  std::atomic<std::uint64_t> deliveries{0};  ///< broadcast frames bound for a member's socket
  std::atomic<std::uint64_t> room_mailbox_high_water{0};
  std::atomic<std::uint64_t> connection_mailbox_high_water{0};
  // Cluster (docs/cluster.md): live members including this node, and changes.
  std::atomic<std::uint64_t> cluster_members{1};  ///< a gauge
  std::atomic<std::uint64_t> cluster_joins{0};
  std::atomic<std::uint64_t> cluster_leaves{0};
  /// A broadcast batch, from the room's first broadcast in it to a member's socket queue.
  metrics::histogram fanout_latency;

  static void raise(std::atomic<std::uint64_t>& high_water, std::uint64_t seen) {
    auto current = high_water.load(std::memory_order_relaxed);
    while (seen > current &&
           !high_water.compare_exchange_weak(current, seen, std::memory_order_relaxed)) {
    }
  }

  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.fetch_add(n, std::memory_order_relaxed);
  }

  [[nodiscard]] server_stats snapshot() const {
    auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
    return server_stats{get(frames_dropped),     get(backpressure_closes), get(rate_limited_pushes),
                        get(rate_limit_closes),  get(overloaded_pushes),   get(oversized_payloads),
                        get(refused_node_limit), get(refused_ip_limit),    get(oversized_frames),
                        get(storage_failures)};
  }
};

}  // namespace roomcast::util
