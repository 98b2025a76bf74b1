#pragma once
// A latency histogram cheap enough for hot paths: fixed buckets, relaxed
// atomics, no lock. Exposed in Prometheus form by metrics/exposition.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace roomcast::metrics {

class histogram {
 public:
  /// Upper bounds in seconds (Prometheus "le"), ascending; +Inf is implicit.
  static constexpr std::array<double, 13> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                    0.005,  0.01,    0.025,  0.05,  0.1,
                                                    0.25,   0.5,     1.0};

  void observe(std::chrono::nanoseconds d) noexcept {
    double seconds = std::chrono::duration<double>(d).count();
    std::size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);  // i == size: +Inf only
    sum_ns_.fetch_add(static_cast<std::uint64_t>(d.count() > 0 ? d.count() : 0),
                      std::memory_order_relaxed);
  }

  /// Observations in bucket i alone (not cumulative); i == bounds.size() is +Inf.
  [[nodiscard]] std::uint64_t bucket(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  [[nodiscard]] double sum_seconds() const noexcept {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> counts_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace roomcast::metrics
