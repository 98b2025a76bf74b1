#pragma once
// Structured logging through spdlog: one key=value line per event on stderr, e.g.
//   ts=2026-11-28T18:00:00.123Z level=warn component=net msg="accept failed" error="Too many open files"
// The threshold starts from ROOMCAST_LOG_LEVEL (debug, info, warn, error;
// default info); set_level changes it (the servers' --log-level).
// Warnings on hot paths go through a rate_limiter: at most one line per
// interval, the next one saying how many were suppressed.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace roomcast::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

using field = std::pair<std::string_view, std::string>;

/// "debug", "info", "warn" or "error" into `out`; false for anything else.
bool parse_level(std::string_view text, level& out);
void set_level(level lvl);

[[nodiscard]] bool enabled(level lvl);
void write(level lvl, std::string_view component, std::string_view msg,
           std::initializer_list<field> fields = {});

/// One per call site (a member or a static local): lets a line through at most
/// once per interval.
class rate_limiter {
 public:
  explicit rate_limiter(std::chrono::milliseconds interval = std::chrono::seconds(1))
      : interval_(interval) {}
  /// True when a line may go out now; `suppressed` gets how many were held back.
  bool allow(std::uint64_t& suppressed);

 private:
  std::mutex mutex_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool emitted_ = false;
  std::uint64_t suppressed_ = 0;
};

/// write(), at most once per limiter interval; adds suppressed=N when lines were dropped.
void limited(rate_limiter& limiter, level lvl, std::string_view component, std::string_view msg,
             std::initializer_list<field> fields = {});

inline void debug(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::debug)) write(level::debug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::info)) write(level::info, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::warn)) write(level::warn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<field> f = {}) {
  if (enabled(level::error)) write(level::error, c, m, f);
}

}  // namespace roomcast::log
