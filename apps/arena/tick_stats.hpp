#pragma once
// How late the rooms' ticks run, measured inside the room actors: the time from
// when a tick was due (the room's first tick plus n periods) to when it ran.
// Lock-free buckets of 100 us (the last one open-ended), shared by every room;
// read by GET /api/arena/stats and the benchmark.

#include <boost/json/object.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace arena {

class tick_stats {
 public:
  static constexpr std::int64_t bucket_us = 100;
  static constexpr std::size_t buckets = 1000;  // up to 100 ms, then the last bucket

  void record(std::chrono::microseconds lateness) {
    auto us = lateness.count() < 0 ? 0 : lateness.count();
    auto i = static_cast<std::size_t>(us / bucket_us);
    counts_[i < buckets ? i : buckets - 1].fetch_add(1, std::memory_order_relaxed);
    auto max = max_us_.load(std::memory_order_relaxed);
    while (us > max && !max_us_.compare_exchange_weak(max, us, std::memory_order_relaxed)) {
    }
  }

  /// {"ticks", "late_p50_ms", "late_p99_ms", "late_p999_ms", "late_max_ms"}
  /// (percentiles to the bucket's upper edge).
  [[nodiscard]] boost::json::object summary() const {
    std::array<std::uint64_t, buckets> counts{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < buckets; ++i) total += counts[i] = counts_[i].load(std::memory_order_relaxed);
    auto percentile = [&](double p) {
      auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total));
      std::uint64_t seen = 0;
      for (std::size_t i = 0; i < buckets; ++i)
        if ((seen += counts[i]) > rank) return static_cast<double>((i + 1) * bucket_us) / 1000.0;
      return 0.0;
    };
    return {{"ticks", total},
            {"late_p50_ms", percentile(0.5)},
            {"late_p99_ms", percentile(0.99)},
            {"late_p999_ms", percentile(0.999)},
            {"late_max_ms", static_cast<double>(max_us_.load()) / 1000.0}};
  }

 private:
  std::array<std::atomic<std::uint64_t>, buckets> counts_{};
  std::atomic<std::int64_t> max_us_{0};
};

}  // namespace arena
