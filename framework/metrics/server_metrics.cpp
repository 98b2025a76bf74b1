#include "metrics/server_metrics.hpp"

#include "metrics/exposition.hpp"

namespace roomcast::metrics {

namespace {
std::uint64_t get(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

void counter(exposition& e, std::string_view name, std::string_view help,
             const std::atomic<std::uint64_t>& value) {
  e.family(name, "counter", help);
  e.sample(name, get(value));
}

template <class Number>
void gauge(exposition& e, std::string_view name, std::string_view help, Number value) {
  e.family(name, "gauge", help);
  e.sample(name, value);
}
}  // namespace

std::string render(const util::counters& c, std::size_t open_sockets,
                   const store::store_health& store, bool accepting) {
  exposition e;
  gauge(e, "roomcast_connections", "Open WebSocket connections.",
        static_cast<std::uint64_t>(open_sockets));
  counter(e, "roomcast_connections_opened_total", "WebSocket connections accepted.",
          c.connections_opened);
  gauge(e, "roomcast_connections_parked",
        "Idle plain WebSocket connections holding no stream state (reopened on traffic).",
        static_cast<double>(c.sockets_parked.load(std::memory_order_relaxed)));
  e.family("roomcast_connections_closed_total", "counter",
           "WebSocket connections ended, by the close code that ended them (abnormal: no close frame).");
  for (std::size_t k = 0; k < util::counters::close_kinds; ++k)
    e.sample("roomcast_connections_closed_total", get(c.connections_closed[k]),
             {{"reason", std::string(util::counters::close_kind_names[k])}});
  e.family("roomcast_connections_refused_total", "counter", "Upgrades refused by a connection limit.");
  e.sample("roomcast_connections_refused_total", get(c.refused_node_limit), {{"limit", "node"}});
  e.sample("roomcast_connections_refused_total", get(c.refused_ip_limit), {{"limit", "address"}});
  e.sample("roomcast_connections_refused_total", get(c.refused_tokens), {{"limit", "token"}});
  counter(e, "roomcast_joins_total", "Channel joins accepted.", c.joins);
  gauge(e, "roomcast_rooms", "Running rooms (one per active topic).",
        static_cast<double>(c.rooms.load(std::memory_order_relaxed)));
  counter(e, "roomcast_messages_in_total", "WebSocket messages read from clients.", c.messages_in);
  counter(e, "roomcast_bytes_in_total", "Payload bytes of the messages read.", c.bytes_in);
  counter(e, "roomcast_messages_out_total", "WebSocket messages written to clients.", c.messages_out);
  counter(e, "roomcast_bytes_out_total", "Payload bytes of the messages written.", c.bytes_out);
  counter(e, "roomcast_broadcasts_total", "Broadcasts fanned out by rooms (each encoded once).",
          c.broadcasts);
  counter(e, "roomcast_deliveries_total", "Broadcast frames queued for a member's socket.",
          c.deliveries);
  counter(e, "roomcast_frames_dropped_total", "Frames dropped by a drop or drop_oldest policy.",
          c.frames_dropped);
  counter(e, "roomcast_backpressure_closes_total", "Sockets closed with 1013 for falling behind.",
          c.backpressure_closes);
  counter(e, "roomcast_rate_limited_pushes_total", "Pushes answered rate_limited.",
          c.rate_limited_pushes);
  counter(e, "roomcast_overloaded_pushes_total", "Pushes answered overloaded (a mailbox over its bound).",
          c.overloaded_pushes);
  e.family("roomcast_mailbox_high_water", "gauge",
           "Most messages seen queued in one actor's mailbox since start.");
  e.sample("roomcast_mailbox_high_water", get(c.room_mailbox_high_water), {{"actor", "room"}});
  e.sample("roomcast_mailbox_high_water", get(c.connection_mailbox_high_water),
           {{"actor", "connection"}});
  e.histogram("roomcast_fanout_latency_seconds",
              "From a room's broadcast to the frame's hand-over to a member's socket queue.",
              c.fanout_latency);
  counter(e, "roomcast_durable_commits_total", "Store transactions committed (group commits).",
          store.commits);
  counter(e, "roomcast_durable_messages_total", "Durable broadcasts committed.",
          store.committed_messages);
  counter(e, "roomcast_durable_failures_total", "Durable broadcasts refused storage_unavailable.",
          store.failed_messages);
  e.histogram("roomcast_durable_commit_seconds", "One group commit, BEGIN to COMMIT.",
              store.commit_latency);
  gauge(e, "roomcast_cluster_members", "Live cluster members, this node included (1 without a cluster).",
        get(c.cluster_members));
  counter(e, "roomcast_cluster_joins_total", "Nodes that joined this node's membership (restarts included).",
          c.cluster_joins);
  counter(e, "roomcast_cluster_leaves_total", "Members that left: stopped, died or silent past the failure timeout.",
          c.cluster_leaves);
  gauge(e, "roomcast_ready", "1 while accepting connections with healthy storage.",
        static_cast<std::uint64_t>(accepting && store.healthy.load() ? 1 : 0));
  return e.text();
}

}  // namespace roomcast::metrics
