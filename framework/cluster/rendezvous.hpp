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

}  // namespace roomcast::cluster
