#pragma once
// Rendezvous (highest random weight) hashing: the owner of a topic is the node
// whose hash of (node, topic) is highest. Every node computes the same owner from
// the same membership, and a membership change moves only the topics whose owner
// joined or left. The hash is fixed (FNV-1a, then a 64-bit finalizer), not
// std::hash, so that every build agrees.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::cluster {

/// The weight of `node` for `topic`.
std::uint64_t rendezvous_weight(std::string_view node, std::string_view topic);

/// The owner of `topic` among `nodes` (ties broken by the larger name); nullopt
/// when there are no nodes.
std::optional<std::string> owner_of(std::string_view topic, const std::vector<std::string>& nodes);

/// A member and the topic patterns it serves. A node that serves patterns is a
/// service node: it owns the topics matching them, and no others.
struct placement_member {
  std::string node;
  std::vector<std::string> serves;
};

/// The owner of `topic`: among the service nodes with a pattern matching it when
/// there is one, else among the other nodes. nullopt: no such node is up.
/// With `servers_only` (a remote channel's topic) only service nodes qualify.
std::optional<std::string> place(std::string_view topic, const std::vector<placement_member>& members,
                                 bool servers_only = false);

}  // namespace roomcast::cluster
