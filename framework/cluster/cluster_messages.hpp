#pragma once
// Every message type that crosses nodes, registered in one place
// (register_cluster_types), which every node calls before its actor system starts.

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace roomcast::cluster {

/// A node as its agent describes it.
struct node_record {
  std::string node;               ///< advertised "host:port"
  std::uint64_t incarnation = 0;  ///< start time (ns) with random low bits: later starts are larger
  caf::actor agent;
  caf::actor directory;           ///< its topic directory: joins for topics it owns go there
  std::vector<std::string> serves;  ///< a service node's topic patterns (empty: a general node)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_record& x) {
  return f(caf::meta::type_name("roomcast.node_record"), x.node, x.incarnation, x.agent, x.directory, x.serves);
}

/// The responder first, then every member it knows.
using node_records = std::vector<node_record>;

// Atoms (at most 10 characters in CAF 0.17).
using hello_atom = caf::atom_constant<caf::atom("c_hello")>;      // node -> node: I am ...
using member_atom = caf::atom_constant<caf::atom("c_member")>;    // node -> nodes: ... joined
using members_atom = caf::atom_constant<caf::atom("c_members")>;  // server -> agent: who is in?
using seed_atom = caf::atom_constant<caf::atom("c_seed")>;        // agent -> itself: retry seeds
using start_atom = caf::atom_constant<caf::atom("c_start")>;      // server -> agent: your name, go
using ping_atom = caf::atom_constant<caf::atom("c_ping")>;        // agent -> agents: alive?
using beat_atom = caf::atom_constant<caf::atom("c_beat")>;        // agent -> itself: ping round

/// The membership as the agent hands it to its node's directory (local only):
/// this node's name and every other member's directory.
struct cluster_view {
  struct peer {
    std::string node;
    caf::actor directory;
    std::vector<std::string> serves;
  };
  std::string self;
  std::vector<std::string> self_serves;
  std::vector<peer> peers;
};

/// Registers the cross-node types with `cfg` (before the actor system starts).
void register_cluster_types(caf::actor_system_config& cfg);

}  // namespace roomcast::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::cluster::cluster_view)
