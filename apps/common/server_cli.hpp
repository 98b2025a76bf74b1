#pragma once
// The command line every Roomcast server binary shares.

#include "roomcast/server.hpp"

#include <functional>
#include <optional>
#include <string>

namespace roomcast::cli {

/// Parses the command line into `options` (its values are the defaults; see
/// docs/configuration.md or --help for every flag). Prints usage and returns an
/// exit code on --help or a bad argument; nullopt to go on.
std::optional<int> parse(int argc, char** argv, const std::string& program, server_options& options);

/// Starts `srv`, prints "listening on http://HOST:PORT" (https:// with TLS) (and flushes), then runs
/// until SIGTERM (drains: 1012 in batches) or SIGINT (stops: 1001). Returns the
/// process exit code.
int run(server& srv);

}  // namespace roomcast::cli
