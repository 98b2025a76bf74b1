#pragma once
// Structured logging: one key=value line per event on stderr, e.g.
//   ts=2026-11-28T18:00:00.123Z level=warn component=net msg="accept failed" error="Too many open files"
// The threshold comes from ROOMCAST_LOG_LEVEL (debug, info, warn, error; default info),
// read once at first use.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace roomcast::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

using field = std::pair<std::string_view, std::string>;

[[nodiscard]] bool enabled(level lvl);
void write(level lvl, std::string_view component, std::string_view msg,
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
