#include "actors/topic_directory.hpp"

#include "actors/room_actor.hpp"
#include "cluster/relay_actor.hpp"
#include "cluster/rendezvous.hpp"
#include "protocol/codec.hpp"
#include "protocol/errors.hpp"
#include "util/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace roomcast::actors {

namespace {
/// How long a node waits for another node's directory (HTTP API calls).
constexpr auto remote_call_timeout = std::chrono::seconds(5);

json::value parse_answer(const std::string& text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  return ec ? json::value(nullptr) : value;
}
}  // namespace

topic_directory::topic_directory(caf::actor_config& cfg, std::shared_ptr<const runtime> rt,
                                 caf::actor store)
    : caf::event_based_actor(cfg), runtime_(std::move(rt)), store_(std::move(store)) {
  for (const auto& route : runtime_->channels) has_remote_routes_ |= route.remote_only;
}

topic_directory::room_slot* topic_directory::room_for(const std::string& topic, bool raw) {
  auto& rooms = raw ? raw_rooms_ : channel_rooms_;
  if (auto it = rooms.find(topic); it != rooms.end()) return &it->second;
  std::unique_ptr<channel> handler;
  if (!raw) {
    const channel_route* route = runtime_->find_channel(topic);
    if (!route) return nullptr;
    try {
      handler = route->factory(topic);
    } catch (const std::exception& e) {
      log::error("directory", "channel factory threw", {{"topic", topic}, {"error", e.what()}});
    } catch (...) {
      log::error("directory", "channel factory threw", {{"topic", topic}});
    }
    if (!handler) return nullptr;
  }
  const auto& o = runtime_->options;
  room_settings settings{o.presence_window, o.overflow, o.outbound_budget_bytes,
                         o.max_room_mailbox, runtime_->counters, store_,
                         !raw && runtime_->is_durable(topic), o.store.max_replay, o.join_timeout};
  auto room = spawn<room_actor>(topic, std::move(handler), caf::actor_cast<caf::actor>(this),
                                std::move(settings));
  monitor(room);
  runtime_->counters->rooms.fetch_add(1, std::memory_order_relaxed);
  keys_.emplace(room.address(), room_key{raw ? kind::raw : kind::channel, topic});
  return &rooms.emplace(topic, room_slot{room, 0}).first->second;
}

void topic_directory::on_exit() {
  store_ = nullptr;
  channel_rooms_.clear();
  raw_rooms_.clear();
  relays_.clear();
  keys_.clear();
  peers_.clear();
}

std::unordered_map<std::string, topic_directory::room_slot>& topic_directory::rooms_of(kind what) {
  return what == kind::raw ? raw_rooms_ : channel_rooms_;
}

// -- cluster ------------------------------------------------------------------------------

topic_directory::owner_info topic_directory::owner_of(const std::string& topic) const {
  using where = owner_info::where;
  bool remote_only = false;
  if (has_remote_routes_) {
    const auto* route = runtime_->find_channel(topic);
    remote_only = route && route->remote_only;
  }
  if (members_.empty()) return {remote_only ? where::nobody : where::here, {}, nullptr};  // no cluster
  auto owner = cluster::place(topic, members_, remote_only);
  if (!owner) return {where::nobody, {}, nullptr};
  auto it = peers_.find(*owner);
  if (*owner == self_ || it == peers_.end()) return {where::here, {}, nullptr};
  return {where::elsewhere, it->first, it->second};
}

topic_directory::relay_slot& topic_directory::relay_for(const std::string& topic,
                                                       const owner_info& owner) {
  if (auto it = relays_.find(topic); it != relays_.end()) {
    if (it->second.owner == owner.node && it->second.owner_directory == owner.directory)
      return it->second;
    send_exit(it->second.relay, cluster::moved_reason());
    keys_.erase(it->second.relay.address());
    relays_.erase(it);
  }
  auto relay = spawn<cluster::relay_actor>(topic, owner.directory, caf::actor_cast<caf::actor>(this),
                                           runtime_->options.join_timeout);
  monitor(relay);
  keys_.emplace(relay.address(), room_key{kind::relay, topic});
  return relays_.emplace(topic, relay_slot{relay, owner.node, owner.directory, 0}).first->second;
}

void topic_directory::ask_owner_presence(const caf::actor& owner, const std::string& topic,
                                         std::string key) {
  auto promise = make_response_promise();
  request(owner, remote_call_timeout, cluster::remote_presence_atom::value, topic, std::move(key))
      .then([promise](std::string& text) mutable { promise.deliver(parse_answer(text)); },
            [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
}

void topic_directory::on_join(join_request& req) {
  auto owner = owner_of(req.topic);
  if (owner.at == owner_info::where::elsewhere) {
    auto& slot = relay_for(req.topic, owner);
    ++slot.joins_forwarded;
    delegate(slot.relay, join_atom::value, std::move(req));
    return;
  }
  auto refuse = [&](std::string_view reason) {
    protocol::opt_ref ref = protocol::view(req.ref);
    make_response_promise().deliver(join_outcome{
        false, 0,
        net::make_frame(protocol::encode_reply(req.join_ref, ref, req.topic, "error",
                                               json::object{{"reason", reason}})),
        nullptr});
  };
  if (owner.at == owner_info::where::nobody) return refuse(protocol::reasons::owner_unreachable);
  room_slot* slot = room_for(req.topic, false);
  if (!slot) return refuse(protocol::reasons::join_crashed);
  ++slot->joins_forwarded;
  delegate(slot->room, join_atom::value, std::move(req));
}

void topic_directory::on_remote_join(cluster::remote_join& wire) {
  auto refuse = [&](std::string_view reason) {
    protocol::opt_ref ref = wire.has_ref ? protocol::opt_ref(wire.ref) : std::nullopt;
    cluster::remote_join_outcome outcome;
    outcome.request_id = wire.request_id;
    outcome.reply.data = protocol::encode_reply(wire.join_ref, ref, wire.topic, "error",
                                                json::object{{"reason", reason}});
    send(wire.relay, cluster::remote_join_atom::value, std::move(outcome));
  };
  if (!wire.relay) return;
  if (!runtime_->find_channel(wire.topic)) return refuse(protocol::reasons::unmatched_topic);
  // The sender's view of the membership differs from ours (one of us has not
  // heard of a node yet). Not passed on: the owner may have no link to the
  // sender yet, and CAF 0.17 loses messages routed through a third node. The
  // join is tried again once the views agree (see connection_actor).
  if (owner_of(wire.topic).at != owner_info::where::here)
    return refuse(protocol::reasons::owner_unreachable);
  room_slot* slot = room_for(wire.topic, false);
  if (!slot) return refuse(protocol::reasons::join_crashed);
  boost::system::error_code ec;
  auto params = boost::json::parse(wire.params, ec);
  if (ec) return refuse(protocol::reasons::invalid_message);
  ++slot->joins_forwarded;
  join_request req{wire.topic,
                   std::move(wire.join_ref),
                   wire.has_ref ? std::optional<std::string>(std::move(wire.ref)) : std::nullopt,
                   std::move(params),
                   cluster::from_wire(wire.socket),
                   std::move(wire.relay),
                   nullptr,
                   true,
                   wire.request_id};
  send(slot->room, join_atom::value, std::move(req));
}

void topic_directory::on_view(cluster::cluster_view& view) {
  std::map<std::string, caf::actor> peers;
  for (const auto& p : view.peers) peers.emplace(p.node, p.directory);
  // Nodes that left (or restarted: a new directory under the same name).
  std::vector<caf::node_id> gone;
  for (const auto& [name, dir] : peers_) {
    auto now = peers.find(name);
    if (now == peers.end() || now->second != dir) gone.push_back(dir.node());
  }
  self_ = std::move(view.self);
  peers_ = std::move(peers);
  members_.clear();
  members_.push_back({self_, std::move(view.self_serves)});
  for (auto& p : view.peers) members_.push_back({std::move(p.node), std::move(p.serves)});

  for (const auto& node : gone)
    for (const auto& [topic, slot] : channel_rooms_) send(slot.room, cluster::node_gone_atom::value, node);
  // Topics whose owner changed move: the room or relay ends with moved_reason
  // and its connections join again, here, which now leads to the new owner.
  for (auto it = channel_rooms_.begin(); it != channel_rooms_.end();) {
    if (owner_of(it->first).at == owner_info::where::here) {
      ++it;
      continue;
    }
    log::info("directory", "topic moves to its new owner", {{"topic", it->first}});
    send_exit(it->second.room, cluster::moved_reason());
    runtime_->counters->rooms.fetch_sub(1, std::memory_order_relaxed);
    keys_.erase(it->second.room.address());
    it = channel_rooms_.erase(it);
  }
  for (auto it = relays_.begin(); it != relays_.end();) {
    // The same owner, and the same process of it (a restarted node has a new directory).
    auto owner = owner_of(it->first);
    bool same = owner.at == owner_info::where::elsewhere && owner.node == it->second.owner &&
                owner.directory == it->second.owner_directory;
    if (same) {
      ++it;
      continue;
    }
    // With no owner left at all (a service node's topics while none is up), a
    // silent rejoin could only retry until it gives up: end as the owner's crash
    // would (phx_error at once), as the relay's own monitor does when it fires first.
    send_exit(it->second.relay, owner.at == owner_info::where::nobody
                                    ? caf::error{caf::exit_reason::remote_link_unreachable}
                                    : cluster::moved_reason());
    keys_.erase(it->second.relay.address());
    it = relays_.erase(it);
  }
}

void topic_directory::forget_relay(std::unordered_map<caf::actor_addr, room_key>::iterator key) {
  if (auto it = relays_.find(key->second.topic);
      it != relays_.end() && it->second.relay.address() == key->first)
    relays_.erase(it);
  keys_.erase(key);
}

// -- behavior -----------------------------------------------------------------------------

caf::behavior topic_directory::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) {
    auto key = keys_.find(msg.source);
    if (key == keys_.end()) return;
    if (key->second.what == kind::relay) return forget_relay(key);
    runtime_->counters->rooms.fetch_sub(1, std::memory_order_relaxed);
    auto& rooms = rooms_of(key->second.what);
    if (auto it = rooms.find(key->second.topic);
        it != rooms.end() && it->second.room.address() == msg.source)
      rooms.erase(it);
    keys_.erase(key);
  });
  return {
      [this](join_atom, join_request& req) { on_join(req); },
      [this](cluster::remote_join_atom, cluster::remote_join& wire) { on_remote_join(wire); },
      [this](cluster::view_atom, cluster::cluster_view& view) { on_view(view); },
      [this](cluster::relay_ends_atom) {
        auto key = keys_.find(caf::actor_cast<caf::actor_addr>(current_sender()));
        if (key != keys_.end() && key->second.what == kind::relay) forget_relay(key);
      },
      [this](subscribe_atom atom, const std::string& topic, caf::actor& connection) {
        room_slot* slot = room_for(topic, true);
        ++slot->joins_forwarded;
        return delegate(slot->room, atom, std::move(connection));
      },
      [this](publish_atom atom, const std::string& topic, net::frame_ptr& frame) {
        if (auto it = raw_rooms_.find(topic); it != raw_rooms_.end())
          send(it->second.room, atom, std::move(frame));
      },
      // Presence queries from outside: the room answers, or nobody is there.
      // A broadcast from the HTTP API: the room is started if needed (a durable
      // topic stores it even with nobody there). Counted like a join, so that an
      // idle report crossing it does not stop the room under it.
      [this](api_atom atom, const std::string& topic, std::string& event, json::value& payload) {
        auto owner = owner_of(topic);
        if (owner.at == owner_info::where::elsewhere) {
          // The owner's room answers, whichever node the HTTP request came to.
          auto promise = make_response_promise();
          request(owner.directory, remote_call_timeout, cluster::remote_api_atom::value, topic,
                  std::move(event), boost::json::serialize(payload))
              .then([promise](std::string& text) mutable { promise.deliver(parse_answer(text)); },
                    [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
          return;
        }
        if (owner.at == owner_info::where::nobody) {
          make_response_promise().deliver(caf::make_error(
              caf::sec::runtime_error, std::string(protocol::reasons::owner_unreachable)));
          return;
        }
        room_slot* slot = room_for(topic, false);
        if (!slot) {
          make_response_promise().deliver(
              caf::make_error(caf::sec::runtime_error, "unknown_topic"));
          return;
        }
        ++slot->joins_forwarded;
        delegate(slot->room, atom, std::move(event), std::move(payload));
      },
      [this](rooms_atom) {
        room_list rooms;
        rooms.reserve(channel_rooms_.size());
        for (const auto& [topic, slot] : channel_rooms_) rooms.emplace_back(topic, slot.room);
        return rooms;
      },
      // The same, asked by another node's directory: JSON travels as text.
      [this](cluster::remote_api_atom, const std::string& topic, std::string& event,
             std::string& payload) {
        auto promise = make_response_promise();
        boost::system::error_code ec;
        auto value = boost::json::parse(payload, ec);
        if (ec) return promise.deliver(caf::make_error(caf::sec::runtime_error, "bad_request"));
        if (owner_of(topic).at != owner_info::where::here)
          return promise.deliver(caf::make_error(caf::sec::runtime_error,
                                                 std::string(protocol::reasons::owner_unreachable)));
        room_slot* slot = room_for(topic, false);
        if (!slot) return promise.deliver(caf::make_error(caf::sec::runtime_error, "unknown_topic"));
        ++slot->joins_forwarded;
        request(slot->room, remote_call_timeout, api_atom::value, std::move(event), std::move(value))
            .then([promise](json::value& answer) mutable {
                    promise.deliver(boost::json::serialize(answer));
                  },
                  [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
      },
      [this](cluster::remote_presence_atom, const std::string& topic, std::string& key) {
        // key empty: the whole list.
        auto promise = make_response_promise();
        auto it = channel_rooms_.find(topic);
        if (it == channel_rooms_.end())
          return promise.deliver(std::string(key.empty() ? "{}" : "null"));
        auto then = [promise](json::value& answer) mutable {
          promise.deliver(boost::json::serialize(answer));
        };
        auto failed = [promise](caf::error& err) mutable { promise.deliver(std::move(err)); };
        if (key.empty())
          request(it->second.room, remote_call_timeout, presence_atom::value).then(then, failed);
        else
          request(it->second.room, remote_call_timeout, presence_atom::value, std::move(key))
              .then(then, failed);
      },
      [this](presence_atom atom, const std::string& topic) {
        if (auto owner = owner_of(topic); owner.at == owner_info::where::elsewhere)
          return ask_owner_presence(owner.directory, topic, std::string{});
        if (auto it = channel_rooms_.find(topic); it != channel_rooms_.end())
          delegate(it->second.room, atom);
        else
          make_response_promise().deliver(json::value(json::object()));
      },
      [this](presence_atom atom, const std::string& topic, std::string& key) {
        if (auto owner = owner_of(topic); owner.at == owner_info::where::elsewhere)
          return ask_owner_presence(owner.directory, topic, key);
        if (auto it = channel_rooms_.find(topic); it != channel_rooms_.end())
          delegate(it->second.room, atom, std::move(key));
        else
          make_response_promise().deliver(json::value(nullptr));
      },
      [this](idle_atom, std::uint64_t joins_seen) {
        auto key = keys_.find(caf::actor_cast<caf::actor_addr>(current_sender()));
        if (key == keys_.end()) return;
        if (key->second.what == kind::relay) {
          auto it = relays_.find(key->second.topic);
          if (it == relays_.end() || it->second.joins_forwarded != joins_seen) return;
          send(it->second.relay, stop_atom::value);
          relays_.erase(it);
          keys_.erase(key);
          return;
        }
        auto& rooms = rooms_of(key->second.what);
        auto it = rooms.find(key->second.topic);
        if (it == rooms.end() || it->second.joins_forwarded != joins_seen) return;
        send(it->second.room, stop_atom::value);
        runtime_->counters->rooms.fetch_sub(1, std::memory_order_relaxed);
        rooms.erase(it);
        keys_.erase(key);
      },
      [this](shutdown_atom) {
        for (auto& [addr, key] : keys_) {
          if (key.what == kind::relay) {
            if (auto it = relays_.find(key.topic); it != relays_.end())
              send_exit(it->second.relay, caf::exit_reason::user_shutdown);
            continue;
          }
          auto& rooms = rooms_of(key.what);
          if (auto it = rooms.find(key.topic); it != rooms.end())
            send_exit(it->second.room, caf::exit_reason::user_shutdown);
        }
        quit();
      },
  };
}

}  // namespace roomcast::actors
