#include "actors/topic_directory.hpp"

#include "actors/room_actor.hpp"
#include "protocol/codec.hpp"
#include "protocol/errors.hpp"
#include "util/log.hpp"

namespace roomcast::actors {

topic_directory::topic_directory(caf::actor_config& cfg, std::shared_ptr<const runtime> rt,
                                 caf::actor store)
    : caf::event_based_actor(cfg), runtime_(std::move(rt)), store_(std::move(store)) {}

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
                         !raw && runtime_->is_durable(topic), o.store.max_replay};
  auto room = spawn<room_actor>(topic, std::move(handler), caf::actor_cast<caf::actor>(this),
                                std::move(settings));
  monitor(room);
  runtime_->counters->rooms.fetch_add(1, std::memory_order_relaxed);
  keys_.emplace(room.address(), room_key{raw, topic});
  return &rooms.emplace(topic, room_slot{room, 0}).first->second;
}

void topic_directory::on_exit() {
  store_ = nullptr;
  channel_rooms_.clear();
  raw_rooms_.clear();
  keys_.clear();
}

caf::behavior topic_directory::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) {
    auto key = keys_.find(msg.source);
    if (key == keys_.end()) return;
    runtime_->counters->rooms.fetch_sub(1, std::memory_order_relaxed);
    auto& rooms = key->second.raw ? raw_rooms_ : channel_rooms_;
    if (auto it = rooms.find(key->second.topic);
        it != rooms.end() && it->second.room.address() == msg.source)
      rooms.erase(it);
    keys_.erase(key);
  });
  return {
      [this](join_atom atom, join_request& req) {
        room_slot* slot = room_for(req.topic, false);
        if (!slot) {
          protocol::opt_ref ref = req.ref ? protocol::opt_ref(*req.ref) : std::nullopt;
          make_response_promise().deliver(join_outcome{
              false, 0,
              net::make_frame(protocol::encode_reply(
                  req.join_ref, ref, req.topic, "error",
                  json::object{{"reason", protocol::reasons::join_crashed}})),
              nullptr});
          return;
        }
        ++slot->joins_forwarded;
        delegate(slot->room, atom, std::move(req));
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
      [this](presence_atom atom, const std::string& topic) {
        if (auto it = channel_rooms_.find(topic); it != channel_rooms_.end())
          delegate(it->second.room, atom);
        else
          make_response_promise().deliver(json::value(json::object()));
      },
      [this](presence_atom atom, const std::string& topic, std::string& key) {
        if (auto it = channel_rooms_.find(topic); it != channel_rooms_.end())
          delegate(it->second.room, atom, std::move(key));
        else
          make_response_promise().deliver(json::value(nullptr));
      },
      [this](idle_atom, std::uint64_t joins_seen) {
        auto key = keys_.find(caf::actor_cast<caf::actor_addr>(current_sender()));
        if (key == keys_.end()) return;
        auto& rooms = key->second.raw ? raw_rooms_ : channel_rooms_;
        auto it = rooms.find(key->second.topic);
        if (it == rooms.end() || it->second.joins_forwarded != joins_seen) return;
        send(it->second.room, stop_atom::value);
        runtime_->counters->rooms.fetch_sub(1, std::memory_order_relaxed);
        rooms.erase(it);
        keys_.erase(key);
      },
      [this](shutdown_atom) {
        for (auto& [addr, key] : keys_) {
          auto& rooms = key.raw ? raw_rooms_ : channel_rooms_;
          if (auto it = rooms.find(key.topic); it != rooms.end())
            send_exit(it->second.room, caf::exit_reason::user_shutdown);
        }
        quit();
      },
  };
}

}  // namespace roomcast::actors
