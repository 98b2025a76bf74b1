#include "actors/runtime.hpp"

#include "actors/topic_pattern.hpp"

namespace roomcast::actors {

const channel_route* runtime::find_channel(std::string_view topic) const {
  for (const auto& route : channels)
    if (topic_matches(route.pattern, topic)) return &route;
  return nullptr;
}

}  // namespace roomcast::actors
