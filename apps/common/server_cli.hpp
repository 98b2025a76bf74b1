#pragma once
// The command line every Roomcast server binary shares.

#include "roomcast/server.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace roomcast::cli {

/// An application's own option (e.g. roomcast-chat's --web-dir): read like the
/// others from flags, ROOMCAST_* variables and the config file; `value` holds
/// its default and receives the result.
struct text_option {
  std::string name;
  std::string* value;
  std::string help;
};
struct number_option {
  std::string name;
  long* value;
  std::string help;
};

/// Parses the command line into `options` (its values are the defaults; see
/// docs/configuration.md or --help for every flag), plus the application's own
/// options. Prints usage and returns an exit code on --help or a bad argument;
/// nullopt to go on.
std::optional<int> parse(int argc, char** argv, const std::string& program, server_options& options,
                         const std::vector<text_option>& texts = {},
                         const std::vector<number_option>& numbers = {});

/// Starts `srv`, prints "listening on http://HOST:PORT" (https:// with TLS) (and flushes), then runs
/// until SIGTERM (drains: 1012 in batches) or SIGINT (stops: 1001). Returns the
/// process exit code.
int run(server& srv);

}  // namespace roomcast::cli
