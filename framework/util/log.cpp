#include "util/log.hpp"

#include "roomcast/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace roomcast::log {

namespace {

spdlog::level::level_enum to_spdlog(level lvl) {
  switch (lvl) {
    case level::debug: return spdlog::level::debug;
    case level::info: return spdlog::level::info;
    case level::warn: return spdlog::level::warn;
    case level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* name(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

/// The process's logger: spdlog, one line per event on stderr, UTC timestamps;
/// the rest of the line (level=... component=... msg=... fields) is ours.
spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto l = std::make_shared<spdlog::logger>("roomcast", sink);
    l->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
    level start = level::info;
    if (const char* v = std::getenv("ROOMCAST_LOG_LEVEL")) parse_level(v, start);
    l->set_level(to_spdlog(start));
    l->flush_on(spdlog::level::warn);
    return l;
  }();
  return *instance;
}

void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) quote |= c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) {  // no raw control bytes in a log line
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
      out += hex;
      continue;
    }
    out += c;
  }
  out += '"';
}

std::string format(level lvl, std::string_view component, std::string_view msg,
                   std::initializer_list<field> fields) {
  std::string line;
  line.reserve(128);
  line += "level=";
  line += name(lvl);
  line += " component=";
  append_value(line, component);
  line += " msg=";
  append_value(line, msg);
  for (const auto& [key, value] : fields) {
    line += ' ';
    line += key;
    line += '=';
    append_value(line, value);
  }
  return line;
}

}  // namespace

bool parse_level(std::string_view text, level& out) {
  if (text == "debug") out = level::debug;
  else if (text == "info") out = level::info;
  else if (text == "warn") out = level::warn;
  else if (text == "error") out = level::error;
  else return false;
  return true;
}

void set_level(level lvl) { logger().set_level(to_spdlog(lvl)); }

bool enabled(level lvl) { return logger().should_log(to_spdlog(lvl)); }

void write(level lvl, std::string_view component, std::string_view msg,
           std::initializer_list<field> fields) {
  logger().log(to_spdlog(lvl), "{}", format(lvl, component, msg, fields));
}

bool rate_limiter::allow(std::uint64_t& suppressed) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (now - last_ < interval_ && emitted_) {
    ++suppressed_;
    return false;
  }
  emitted_ = true;
  last_ = now;
  suppressed = std::exchange(suppressed_, 0);
  return true;
}

void limited(rate_limiter& limiter, level lvl, std::string_view component, std::string_view msg,
             std::initializer_list<field> fields) {
  if (!enabled(lvl)) return;
  std::uint64_t suppressed = 0;
  if (!limiter.allow(suppressed)) return;
  std::string line = format(lvl, component, msg, fields);
  if (suppressed > 0) line += " suppressed=" + std::to_string(suppressed);
  logger().log(to_spdlog(lvl), "{}", line);
}

}  // namespace roomcast::log

namespace roomcast {

bool set_log_level(std::string_view text) {
  log::level lvl{};
  if (!log::parse_level(text, lvl)) return false;
  log::set_level(lvl);
  return true;
}

}  // namespace roomcast
