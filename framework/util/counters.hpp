#pragma once
// The live counters behind server_stats: relaxed atomics, cheap on hot paths,
// shared by the socket layer, the actors and the gateway of one server.

#include "roomcast/backpressure.hpp"

#include <atomic>
#include <cstdint>

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
