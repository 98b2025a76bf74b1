#pragma once
// Several Roomcast processes as one cluster (docs/cluster.md): each node
// publishes a node agent on its cluster port through CAF's middleman, learns the
// whole membership from any seed, and monitors every peer, so a node that dies
// (or hangs) leaves every other node's membership within seconds.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace roomcast {

struct cluster_options {
  /// Join a cluster (also implied by a port or peers). Off: a node of its own.
  bool enable = false;
  /// Cluster port (CAF remoting); 0 picks a free one (see server::cluster_node()).
  std::uint16_t port = 0;
  /// Address the cluster port binds to.
  std::string host = "127.0.0.1";
  /// How other nodes reach this one ("host:port"); also this node's name. Empty:
  /// host and the bound port.
  std::string advertise;
  /// Seed nodes ("host:port"); any one that is up tells the whole membership.
  /// Seeds that are not members are retried every seed_retry.
  std::vector<std::string> peers;
  /// CAF's heartbeat between nodes, and how long a silent peer is kept: a hung
  /// node (not only a dead one) leaves the membership after about
  /// heartbeat + failure_timeout.
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds failure_timeout{2'500};
  std::chrono::milliseconds seed_retry{1'000};
  /// TLS between nodes (CAF's OpenSSL module): this node's certificate and key,
  /// and the CA every node's certificate must chain to. All three or none:
  /// nodes then verify each other (mutual TLS); a node without them, or with a
  /// certificate from another CA, cannot join. Anonymous TLS is never used.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  /// A service node: it owns the topics matching these patterns (its channels
  /// for them run here, every other node relays to it) and no others
  /// (docs/gateway.md#remote-channels). Empty: a general node.
  std::vector<std::string> serves;

  [[nodiscard]] bool tls() const { return !tls_cert.empty() || !tls_key.empty() || !tls_ca.empty(); }
  [[nodiscard]] bool enabled() const { return enable || port != 0 || !peers.empty(); }
};

/// One node as this node sees it.
struct cluster_member {
  std::string node;              ///< its advertised "host:port"
  std::uint64_t incarnation = 0;  ///< random per process start: a restart is a new member
  bool self = false;
  std::vector<std::string> serves;  ///< a service node's patterns
};

}  // namespace roomcast
