#pragma once
// Request-target parsing: path and query split, percent-decoding. Pure.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast::net {

/// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt when an
/// escape is malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

struct parsed_target {
  std::string path;
  std::map<std::string, std::string> query;
};

/// Splits "/a/b?x=1&y=2" into a decoded path and query map; nullopt when malformed.
std::optional<parsed_target> parse_target(std::string_view target);

}  // namespace roomcast::net
