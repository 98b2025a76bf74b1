#pragma once
// Nodes of a test cluster: build/bin/roomcast processes on loopback, started
// with a cluster port and seeds, asked about the membership over GET /api/cluster.

#include "integration/child_process.hpp"
#include "integration/test_server.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace roomcast::testing {

inline constexpr const char* cluster_api_key = "cluster-test-key";

struct node {
  std::unique_ptr<child_process> proc;
  std::uint16_t http_port = 0;
  std::string name;  // "127.0.0.1:CLUSTER_PORT"

  /// GET /api/cluster (with ?topic=), parsed; null when the node does not answer.
  [[nodiscard]] boost::json::value cluster(const std::string& topic = "") const;
  [[nodiscard]] std::set<std::string> members() const;
  [[nodiscard]] std::uint64_t incarnation_of(const std::string& who) const;
  /// The topic's owner as this node sees it.
  [[nodiscard]] std::string owner(const std::string& topic) const;
  /// A client connected to this node.
  [[nodiscard]] std::unique_ptr<client> connect() const;
};

node start_node(const std::vector<std::string>& peers, std::uint16_t cluster_port = 0,
                const std::vector<std::string>& extra = {});
/// The same with another server binary (built on apps/common/server_cli).
node start_program_node(const std::string& program, const std::vector<std::string>& peers,
                        std::uint16_t cluster_port = 0, const std::vector<std::string>& extra = {});

std::set<std::string> names(std::initializer_list<const node*> nodes);

/// Starts `count` nodes seeded by the first; returns once every node sees all.
std::vector<node> start_cluster(std::size_t count);

}  // namespace roomcast::testing
