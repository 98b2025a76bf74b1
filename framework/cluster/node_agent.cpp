#include "cluster/node_agent.hpp"

#include "cluster/relay_messages.hpp"
#include "util/log.hpp"

#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>

#include <optional>
#include <random>

namespace roomcast::cluster {

namespace {

constexpr auto hello_timeout = std::chrono::seconds(3);
// The middleman connects with a blocking connect() on its own thread: wait for
// its answer (one attempt per node at a time) rather than queueing more behind it.
constexpr auto connect_timeout = std::chrono::seconds(150);
constexpr auto give_up_lost_after = std::chrono::minutes(5);

/// "host:port" -> host, port; nullopt when it is not that.
std::optional<std::pair<std::string, std::uint16_t>> split(const std::string& node) {
  auto colon = node.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  unsigned long port = 0;
  try {
    port = std::stoul(node.substr(colon + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (port == 0 || port > 65535) return std::nullopt;
  auto host = node.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

}  // namespace

void register_cluster_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<node_record>("roomcast.node_record");
  cfg.add_message_type<node_records>("roomcast.node_records");
  cfg.add_message_type<wire_frame>("roomcast.wire_frame");
  cfg.add_message_type<std::vector<wire_frame>>("roomcast.wire_frames");
  cfg.add_message_type<member_wire_frames>("roomcast.member_wire_frames");
  cfg.add_message_type<relay_frames>("roomcast.relay_frames");
  cfg.add_message_type<wire_socket>("roomcast.wire_socket");
  cfg.add_message_type<remote_join>("roomcast.remote_join");
  cfg.add_message_type<remote_join_outcome>("roomcast.remote_join_outcome");
  cfg.add_message_type<remote_push>("roomcast.remote_push");
  cfg.add_message_type<std::vector<std::uint64_t>>("roomcast.ids");
}

std::uint64_t new_incarnation() {
  auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  std::random_device random;
  return (ns & ~0xffffULL) | (random() & 0xffffU);
}

node_agent::node_agent(caf::actor_config& cfg, agent_settings settings)
    : caf::event_based_actor(cfg), settings_(std::move(settings)) {
  if (!settings_.counters) settings_.counters = std::make_shared<util::counters>();
  set_down_handler([this](caf::down_msg& msg) { on_down(msg); });
}

caf::behavior node_agent::make_behavior() {
  // Until the server tells us our name, nothing is answered: a peer's hello
  // fails and is retried, rather than recording a member without a name.
  return {
      [this](start_atom, std::string& self_node) {
        settings_.self_node = std::move(self_node);
        publish_view();
        send(this, seed_atom::value);
        send(this, beat_atom::value);
        become(running());
      },
  };
}

caf::behavior node_agent::running() {
  return {
      // Another node introduces itself over its direct connection to us.
      [this](hello_atom, node_record& r) -> node_records {
        if (add(r))
          for (auto& [name, m] : members_)
            if (name != r.node) send(m.agent, member_atom::value, r);
        return records();
      },
      // A member tells us of a node that joined it: introduce ourselves.
      [this](member_atom, node_record& r) { learn({r}); },
      [this](members_atom) -> node_records { return records(); },
      [](ping_atom) { return caf::unit; },  // alive
      [this](beat_atom) {
        ping_members();
        delayed_send(this, settings_.heartbeat, beat_atom::value);
      },
      [this](seed_atom) {
        for (const auto& seed : settings_.seeds)
          if (seed != settings_.self_node && !members_.count(seed)) connect_to(seed);
        auto now = std::chrono::steady_clock::now();
        for (auto it = lost_.begin(); it != lost_.end();) {
          if (members_.count(it->first) || now - it->second > give_up_lost_after) {
            it = lost_.erase(it);
            continue;
          }
          connect_to(it->first);
          ++it;
        }
        delayed_send(this, settings_.seed_retry, seed_atom::value);
      },
  };
}

node_records node_agent::records() {
  node_records out{{settings_.self_node, settings_.incarnation, caf::actor_cast<caf::actor>(this),
                    settings_.directory, settings_.serves}};
  for (const auto& [name, m] : members_) out.push_back(m);
  return out;
}

bool node_agent::add(const node_record& r) {
  if (r.node == settings_.self_node || !r.agent) return false;
  auto it = members_.find(r.node);
  if (it != members_.end()) {
    if (r.incarnation <= it->second.incarnation) return false;  // known, or an older start
    demonitor(it->second.agent);
    log::info("cluster", "node restarted", {{"node", r.node}});
  }
  util::counters::bump(settings_.counters->cluster_joins);
  members_[r.node] = r;
  settings_.counters->cluster_members.store(members_.size() + 1, std::memory_order_relaxed);
  monitor(r.agent);
  log::info("cluster", "node joined",
            {{"node", r.node}, {"members", std::to_string(members_.size() + 1)}});
  publish_view();
  return true;
}

void node_agent::learn(const node_records& others) {
  for (const auto& r : others) {
    if (r.node == settings_.self_node) continue;
    auto it = members_.find(r.node);
    if (it == members_.end() || it->second.incarnation < r.incarnation) connect_to(r.node);
  }
}

void node_agent::connect_to(const std::string& node) {
  auto where = split(node);
  if (!where || !connecting_.insert(node).second) return;
  // A failed introduction (the peer not up yet, or two nodes dialing each other
  // at once) is retried with the seeds, so that the mesh always completes.
  auto failed = [this, node] {
    connecting_.erase(node);
    lost_.try_emplace(node, std::chrono::steady_clock::now());
  };
  // The middleman connects without blocking this actor; the handle it returns
  // reaches the peer directly (not through whoever named it). Both middleman
  // actors speak the same interface; the OpenSSL one wraps the connection in
  // TLS with the configured certificate, key and CA.
  auto mm = settings_.tls ? system().openssl_manager().actor_handle()
                          : system().middleman().actor_handle();
  request(mm, connect_timeout, caf::connect_atom::value, where->first, where->second)
      .then(
          [this, node, failed](const caf::node_id&, caf::strong_actor_ptr& ptr,
                               const std::set<std::string>&) {
            auto agent = caf::actor_cast<caf::actor>(ptr);
            if (!agent) return failed();
            node_record me{settings_.self_node, settings_.incarnation,
                           caf::actor_cast<caf::actor>(this), settings_.directory, settings_.serves};
            request(agent, hello_timeout, hello_atom::value, me)
                .then(
                    [this, node, agent, failed](node_records& theirs) {
                      connecting_.erase(node);
                      if (theirs.empty()) return failed();
                      theirs.front().agent = agent;
                      add(theirs.front());
                      learn(theirs);
                    },
                    [failed](caf::error&) { failed(); });
          },
          [failed](caf::error&) { failed(); });
}

void node_agent::on_down(const caf::down_msg& msg) {
  for (const auto& [name, m] : members_)
    if (m.agent.address() == msg.source) return drop(name, msg.source, to_string(msg.reason));
}

void node_agent::ping_members() {
  // A dead peer's connection closes and its down message comes at once; a hung
  // one keeps its connection, so only an unanswered ping tells. (CAF's own
  // connection timeout does not see heartbeats over its OpenSSL transport.)
  for (const auto& [name, m] : members_)
    request(m.agent, settings_.failure_timeout, ping_atom::value)
        .then([] {}, [this, node = name, agent = m.agent.address()](caf::error&) {
          drop(node, agent, "no answer within the failure timeout");
        });
}

void node_agent::drop(const std::string& node, const caf::actor_addr& agent, const std::string& why) {
  auto it = members_.find(node);
  if (it == members_.end() || it->second.agent.address() != agent) return;  // gone or replaced
  log::warn("cluster", "node left",
            {{"node", node}, {"reason", why}, {"members", std::to_string(members_.size())}});
  demonitor(it->second.agent);
  lost_[node] = std::chrono::steady_clock::now();
  members_.erase(it);
  util::counters::bump(settings_.counters->cluster_leaves);
  settings_.counters->cluster_members.store(members_.size() + 1, std::memory_order_relaxed);
  publish_view();
}

void node_agent::publish_view() {
  if (!settings_.directory) return;
  cluster_view view{settings_.self_node, settings_.serves, {}};
  for (const auto& [name, m] : members_)
    if (m.directory) view.peers.push_back({name, m.directory, m.serves});
  send(settings_.directory, view_atom::value, std::move(view));
}

}  // namespace roomcast::cluster
