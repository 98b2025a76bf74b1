#include "actors/runtime.hpp"

#include "actors/topic_pattern.hpp"

namespace roomcast::actors {

const channel_route* runtime::find_channel(std::string_view topic) const {
  for (const auto& route : channels)
    if (topic_matches(route.pattern, topic)) return &route;
  return nullptr;
}

bool runtime::is_durable(std::string_view topic) const {
  for (const auto& rule : options.store.durable)
    if (topic_matches(rule.pattern, topic)) return true;
  return false;
}

}  // namespace roomcast::actors
