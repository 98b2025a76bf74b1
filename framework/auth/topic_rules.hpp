#pragma once
// Declarative join authorization from configuration: which topics a socket may
// join, by the claims of its token (its assigns). Pure.
//
//   "room:*"              anyone may join room:...
//   "user:{sub}"          user:alice only for the socket whose "sub" claim is alice
//   "admin:* role=admin"  admin:... only when the "role" claim is admin (or, for an
//                         array claim, contains it)
//
// With no rule every topic passes (the channel's on_join still decides); with
// rules, a join passes only when one of them allows it.

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::auth {

struct topic_rule {
  std::string pattern;     ///< a topic pattern; "{claim}" stands for that claim's value
  std::string claim;       ///< with `value`: a condition on the claims; empty: none
  std::string value;
};

/// Parses "PATTERN" or "PATTERN CLAIM=VALUE"; nullopt when malformed.
[[nodiscard]] std::optional<topic_rule> parse_topic_rule(std::string_view text);

/// True when some rule lets a socket with `claims` join `topic`.
[[nodiscard]] bool join_allowed(const std::vector<topic_rule>& rules, std::string_view topic,
                                const boost::json::object& claims);

}  // namespace roomcast::auth
