#include "cluster/rendezvous.hpp"

#include "actors/topic_pattern.hpp"

namespace roomcast::cluster {

namespace {

std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// splitmix64's finalizer: spreads FNV's weak low bits over the whole word.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::uint64_t rendezvous_weight(std::string_view node, std::string_view topic) {
  auto h = fnv1a(0xcbf29ce484222325ULL, node);
  h = fnv1a(h, std::string_view("\0", 1));  // "ab"+"c" and "a"+"bc" differ
  return mix(fnv1a(h, topic));
}

std::optional<std::string> owner_of(std::string_view topic, const std::vector<std::string>& nodes) {
  const std::string* best = nullptr;
  std::uint64_t best_weight = 0;
  for (const auto& node : nodes) {
    auto w = rendezvous_weight(node, topic);
    if (!best || w > best_weight || (w == best_weight && node > *best)) {
      best = &node;
      best_weight = w;
    }
  }
  if (!best) return std::nullopt;
  return *best;
}

std::optional<std::string> place(std::string_view topic,
                                 const std::vector<placement_member>& members, bool servers_only) {
  std::vector<std::string> serving;
  std::vector<std::string> general;
  for (const auto& m : members) {
    if (m.serves.empty()) {
      general.push_back(m.node);
      continue;
    }
    for (const auto& pattern : m.serves)
      if (actors::topic_matches(pattern, topic)) {
        serving.push_back(m.node);
        break;
      }
  }
  if (servers_only || !serving.empty()) return owner_of(topic, serving);
  return owner_of(topic, general);
}

}  // namespace roomcast::cluster
