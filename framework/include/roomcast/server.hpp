#pragma once
// The Roomcast server: one listener (HTTP + WebSocket on one port), an I/O thread
// pool running Beast, and a CAF actor system running the connection and room actors.

#include "roomcast/backpressure.hpp"
#include "roomcast/channel.hpp"
#include "roomcast/cluster.hpp"
#include "roomcast/gateway.hpp"
#include "roomcast/durability.hpp"
#include "roomcast/http.hpp"
#include "roomcast/raw.hpp"
#include "roomcast/socket_info.hpp"
#include "roomcast/tls.hpp"
#include "roomcast/tokens.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast {

struct server_options {
  std::string host = "127.0.0.1";       ///< address to listen on
  std::uint16_t port = 4000;            ///< 0 picks a free port (see server::port())
  unsigned io_threads = 0;              ///< Beast I/O threads; 0 = one per core
  unsigned actor_threads = 0;           ///< CAF scheduler threads; 0 = one per core
  std::string socket_path = "/socket/websocket";  ///< Phoenix socket endpoint
  std::chrono::milliseconds heartbeat_timeout{60'000};  ///< silent sockets are closed
  std::chrono::milliseconds handshake_timeout{10'000};  ///< HTTP request + upgrade
  std::chrono::milliseconds join_timeout{5'000};        ///< a join's room must answer
  std::size_t max_frame_bytes = 1 << 20;    ///< larger frames close the socket with 1009
  std::size_t max_topics_per_connection = 100;  ///< more joins: "too many channels"
  std::size_t max_topic_length = 255;  ///< longer: "invalid topic"; at most 255
  std::size_t max_json_depth = 32;  ///< deeper: "invalid message: nesting too deep"
  std::chrono::milliseconds shutdown_grace{5'000};  ///< wait for sockets to close
  /// drain() closes sockets (1012) in batches spread over this window, so that
  /// clients reconnect to other nodes gradually rather than all at once.
  std::chrono::milliseconds drain_window{2'000};
  /// Presence changes within this window go out as one presence_diff. 0 sends a
  /// diff as soon as the room has no more queued messages, so a burst of joins
  /// that is already waiting in the room's mailbox still becomes one diff.
  std::chrono::milliseconds presence_window{0};
  /// Plain ws:// sockets with no traffic for this long (up to twice as long) set
  /// their WebSocket stream state aside until the next frame either way: about
  /// 2.5 KB less per idle connection (docs/benchmarks.md). 0 never parks.
  std::chrono::milliseconds idle_park_after{5'000};

  // -- backpressure and limits (docs/protocol.md lists every error and close) -------

  /// Unsent bytes a socket may have queued; past it the frame's policy applies.
  std::size_t outbound_budget_bytes = 1 << 20;
  /// Policy for broadcasts and pushes of channels that do not choose one.
  overflow_policy overflow = overflow_policy::close;
  /// Inbound frames read ahead of the connection actor; then TCP slows the client.
  std::size_t read_window = 32;
  /// Pushes per second per socket (token bucket; 0 = unlimited) and its burst
  /// (0 = one second's worth). Excess pushes get "rate_limited".
  double max_pushes_per_second = 0;
  double push_burst = 0;
  /// Push bytes per second per socket (0 = unlimited); its bucket banks at least
  /// max_event_payload_bytes, so that one largest push can always pass.
  double max_push_bytes_per_second = 0;
  /// This many "rate_limited" answers within 10 s close the socket with 1008
  /// (0 = never close).
  std::size_t rate_limit_strikes = 50;
  /// A push whose frame is larger gets "payload too large".
  std::size_t max_event_payload_bytes = 256 * 1024;
  /// A room (or connection) with more queued messages answers pushes "overloaded".
  std::size_t max_room_mailbox = 10'000;
  std::size_t max_connection_mailbox = 10'000;
  /// Open sockets per server (503 past it) and per remote address (429); 0 = no limit.
  std::size_t max_connections = 0;
  std::size_t max_connections_per_ip = 0;

  // -- durability and the HTTP API ---------------------------------------------

  /// Where the server keeps its files (the SQLite database by default).
  std::string data_dir = "data";
  /// Durable topics and their store (docs/durability.md).
  store_options store;
  /// JWT authentication at connect (docs/security.md). Off while `algorithm` is empty.
  token_options tokens;
  /// Join authorization by claims (docs/security.md): "room:*", "user:{sub}",
  /// "admin:* role=admin". With any rule, a join that no rule allows is refused
  /// "unauthorized" before the channel's on_join. Empty: on_join alone decides.
  std::vector<std::string> topic_rules;
  /// Browser origins allowed to open WebSockets ("https://chat.example.com",
  /// "https://*.example.com"); an upgrade with any other Origin header gets 403.
  /// Empty: no check. Requests without an Origin header (not from a browser)
  /// are not affected.
  std::vector<std::string> allowed_origins;
  /// Keys the built-in /api/ endpoints accept as "Authorization: Bearer KEY";
  /// none: they answer 401. (Routes added with server::route are the app's to guard.)
  std::vector<std::string> api_keys;
  /// wss:// on this port (docs/security.md). Off while tls.cert_file is empty.
  tls_options tls;
  /// Membership of a cluster of nodes (docs/cluster.md). Off while port is 0 and
  /// there are no peers.
  cluster_options cluster;
  /// Proxy channels and the connect proxy from configuration (docs/gateway.md):
  /// registered at start, after the application's own channels.
  gateway_options gateway;
};

/// Decision of the socket-level connect handler.
class connect_result {
 public:
  static connect_result accept(std::string user_id = {}, boost::json::object assigns = {}) {
    return connect_result(true, 0, {}, std::move(user_id), std::move(assigns));
  }
  /// Refuses the upgrade with an HTTP status (403 by default) and a reason.
  static connect_result refuse(std::string reason, unsigned http_status = 403) {
    return connect_result(false, http_status, std::move(reason), {}, {});
  }
  [[nodiscard]] bool accepted() const noexcept { return accepted_; }
  [[nodiscard]] unsigned http_status() const noexcept { return status_; }
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  [[nodiscard]] const std::string& user_id() const noexcept { return user_id_; }
  [[nodiscard]] const boost::json::object& assigns() const noexcept { return assigns_; }

 private:
  connect_result(bool ok, unsigned status, std::string reason, std::string user,
                 boost::json::object assigns)
      : accepted_(ok), status_(status), reason_(std::move(reason)),
        user_id_(std::move(user)), assigns_(std::move(assigns)) {}
  bool accepted_;
  unsigned status_;
  std::string reason_;
  std::string user_id_;
  boost::json::object assigns_;
};

struct connect_request {
  std::string path;
  std::map<std::string, std::string> params;   ///< query parameters (vsn, token, ...)
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string remote_address;
  /// With server_options::tokens on: the verified token's "sub" and claims.
  /// Without an on_connect handler they become the socket's user id and assigns.
  std::string subject;
  boost::json::object claims;
  bool tls = false;                 ///< the socket arrived over TLS (wss://)
  std::string client_cert_subject;  ///< a verified client certificate's subject
};

/// Runs on an I/O thread at upgrade time, before the WebSocket handshake completes.
using connect_handler = std::function<connect_result(const connect_request&)>;

class server {
 public:
  explicit server(server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // -- configuration (before start) ----------------------------------------------

  /// Serves topics matching `pattern`: an exact name, or a prefix ending in '*'
  /// ("room:*"). The first matching pattern in registration order wins.
  void channel(std::string pattern, channel_factory factory);

  /// Decides whether a socket may connect, and what it is known by.
  void on_connect(connect_handler handler);

  /// Serves topics matching `pattern` with a proxy channel: a backend decides
  /// every join and event over HTTP (docs/gateway.md). Throws
  /// std::invalid_argument for a bad URL.
  void proxy_channel(std::string pattern, backend_settings backend);
  /// Lets a backend decide every WebSocket connect (instead of on_connect) and
  /// give the socket its user id and assigns (docs/gateway.md).
  void connect_proxy(backend_settings backend);
  /// Topics matching `pattern` are served by a service node of the cluster
  /// (cluster_options::serves) that runs their channel; this node relays its
  /// members' joins and events there. While no such node is up, joins are
  /// refused with "owner unreachable" (docs/gateway.md#remote-channels).
  void remote_channel(std::string pattern);

  /// Serves raw WebSocket (no Phoenix envelope) on `path`; "*" matches any path
  /// other than the Phoenix socket path.
  void raw_endpoint(std::string path, raw_handler_factory factory);

  /// Adds an HTTP route (exact path). Unknown paths answer 404.
  void route(std::string method, std::string path, http_handler handler);

  /// Serves the files under `directory` at `url_prefix` ("/" for a web UI) for
  /// GET, from memory: the directory is read now (throws std::runtime_error
  /// when it cannot be). Routes take precedence; ETag and If-None-Match (304).
  void static_files(std::string url_prefix, const std::string& directory);

  // -- lifecycle -------------------------------------------------------------------

  /// Binds, starts the I/O threads and the actor system; returns once accepting.
  void start();
  /// The bound port (useful with port 0). Valid after start().
  [[nodiscard]] std::uint16_t port() const;
  [[nodiscard]] const server_options& options() const;
  /// Graceful stop: stop accepting, close every socket with 1001, stop all actors.
  /// Idempotent; also called by the destructor. Call stop() and drain() on the
  /// thread that called start(): CAF 0.17's actor system, holding a detached
  /// actor (the store), hangs when torn down from another thread.
  void stop();
  /// Drain before a restart or scale-down: stop accepting (readiness turns
  /// false), close the sockets with 1012 ("service restart": Phoenix clients
  /// reconnect, to another node behind a load balancer) in batches over
  /// drain_window, then stop like stop(): the store commits what it holds.
  void drain();
  /// Re-reads the TLS certificate, key and client CA: new connections use them,
  /// open ones keep theirs. Throws (keeping the current ones) when they do not load.
  void reload_tls();
  /// Blocks until SIGTERM (drain()) or SIGINT (stop()), reloading TLS on SIGHUP;
  /// starts the server first if it is not running. When calling start() yourself,
  /// call block_termination_signals() before it, so that no server thread takes them.
  void run_until_signal();
  /// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and the threads it starts).
  static void block_termination_signals();

  // -- presence, from outside the rooms (blocking; not from a channel callback) ----

  /// {key: {"metas": [...]}} of `topic`; empty when the topic has no room.
  [[nodiscard]] boost::json::object presence_list(std::string_view topic) const;
  /// {"metas": [...]} of `key` in `topic`, or nullopt.
  [[nodiscard]] std::optional<boost::json::object> presence_get(std::string_view topic,
                                                                std::string_view key) const;

  // -- history of durable topics (blocking; not from a channel callback) ---------

  /// The first `limit` stored messages of `topic` with seq > since, oldest first
  /// (page on with since = the last seq returned). Throws std::runtime_error
  /// when storage is unavailable.
  [[nodiscard]] history_page history(std::string_view topic, std::uint64_t since = 0,
                                     std::size_t limit = 100) const;
  /// False while the store cannot write (disk full, locked, corrupt file).
  [[nodiscard]] bool storage_healthy() const;

  // -- cluster (blocking; not from a channel callback) --------------------------

  /// The live members, this node first; without a cluster, one member "local".
  [[nodiscard]] std::vector<cluster_member> cluster_members() const;
  /// This node's advertised "host:port"; empty without a cluster.
  [[nodiscard]] std::string cluster_node() const;
  /// The member that owns `topic` by rendezvous hashing over the live members.
  [[nodiscard]] std::string owner_of(std::string_view topic) const;

  /// The counters of every drop, close and refusal so far.
  [[nodiscard]] server_stats stats() const;

 private:
  void shut_down(std::uint16_t code, const std::string& reason);

  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace roomcast
