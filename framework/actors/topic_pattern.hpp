#pragma once
// Topic patterns and topic-name rules. Pure.

#include <cstddef>
#include <string_view>

namespace roomcast::actors {

/// "room:*" matches every topic that starts with "room:"; "*" matches every
/// topic; any other pattern matches only itself.
[[nodiscard]] bool topic_matches(std::string_view pattern, std::string_view topic) noexcept;

/// A topic is 1..max_length bytes of printable characters (no ASCII controls).
[[nodiscard]] bool valid_topic(std::string_view topic, std::size_t max_length) noexcept;

}  // namespace roomcast::actors
