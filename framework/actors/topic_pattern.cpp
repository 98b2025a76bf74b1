#include "actors/topic_pattern.hpp"

namespace roomcast::actors {

bool topic_matches(std::string_view pattern, std::string_view topic) noexcept {
  if (!pattern.empty() && pattern.back() == '*')
    return topic.starts_with(pattern.substr(0, pattern.size() - 1));
  return pattern == topic;
}

bool valid_topic(std::string_view topic, std::size_t max_length) noexcept {
  if (topic.empty() || topic.size() > max_length) return false;
  for (char c : topic) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return false;
  }
  return true;
}

}  // namespace roomcast::actors
