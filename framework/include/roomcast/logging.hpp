#pragma once
// The process-wide log threshold (logging is one key=value line per event on
// stderr; see docs/configuration.md). It starts from ROOMCAST_LOG_LEVEL.

#include <string_view>

namespace roomcast {

/// "debug", "info", "warn" or "error"; false (and no change) for anything else.
bool set_log_level(std::string_view level);

}  // namespace roomcast
