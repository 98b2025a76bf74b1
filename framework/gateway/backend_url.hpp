#pragma once
// "http://HOST:PORT/BASE" split for the backend client. Pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast::gateway {

struct backend_url {
  std::string host;
  std::uint16_t port = 80;
  std::string base;  ///< path prefix without a trailing '/', "" for the root
};

/// nullopt unless `url` is http://HOST[:PORT][/PATH] (no query, no https).
std::optional<backend_url> parse_backend_url(std::string_view url);

}  // namespace roomcast::gateway
