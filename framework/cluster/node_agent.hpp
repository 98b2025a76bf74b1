#pragma once
// The node agent: one per node, published on the cluster port. It keeps the
// membership: it introduces itself to every node it learns of (seeds first, then
// the members they name), over a direct connection, and monitors each; a peer
// whose agent goes down (process died, or silent past CAF's connection timeout)
// leaves the membership.

#include "cluster/cluster_messages.hpp"
#include "util/counters.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace roomcast::cluster {

struct agent_settings {
  std::string self_node;          ///< advertised "host:port" (set by start_atom once the port is bound)
  std::uint64_t incarnation = 0;
  std::vector<std::string> seeds;  ///< "host:port"
  std::chrono::milliseconds seed_retry{1'000};
  /// Every heartbeat each member is pinged; one that has not answered within
  /// failure_timeout leaves (a hung node), whatever the transport does.
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds failure_timeout{2'500};
  std::shared_ptr<util::counters> counters;  ///< members, joins and leaves for /metrics
  bool tls = false;  ///< connect through CAF's OpenSSL manager (mutual TLS)
  caf::actor directory;  ///< this node's topic directory: told every membership change
  std::vector<std::string> serves;  ///< topic patterns this service node serves
};

class node_agent : public caf::event_based_actor {
 public:
  node_agent(caf::actor_config& cfg, agent_settings settings);

  caf::behavior make_behavior() override;

 private:
  /// Everything but start: only once the agent knows its own name.
  caf::behavior running();
  [[nodiscard]] node_records records();  // self first
  /// Adds or replaces (a later incarnation) a member; true when it is new.
  bool add(const node_record& r);
  void connect_to(const std::string& node);
  void learn(const node_records& others);
  void on_down(const caf::down_msg& msg);
  void ping_members();
  /// Drops `node` if it is still the member with `agent` (logs `why`).
  void drop(const std::string& node, const caf::actor_addr& agent, const std::string& why);
  /// Tells the directory who is in (after every change).
  void publish_view();

  agent_settings settings_;
  std::map<std::string, node_record> members_;  // by node name, self excluded
  std::set<std::string> connecting_;             // introductions in flight
  /// Nodes to retry with the seeds for a while: members whose link went down,
  /// and nodes whose introduction failed. A link that failed between two live
  /// nodes heals; a dead node is given up after 5 minutes.
  std::map<std::string, std::chrono::steady_clock::time_point> lost_;
};

/// A fresh incarnation: nanoseconds since the epoch, low bits randomised.
std::uint64_t new_incarnation();

}  // namespace roomcast::cluster
