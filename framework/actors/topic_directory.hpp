#pragma once
// One per node: topic name -> room actor. Spawns a room on the first join,
// forwards joins to it (the room answers the joiner directly), and stops a room
// once it is idle and no join is on its way to it. Raw topics (raw endpoints)
// live in their own namespace.

#include "actors/messages.hpp"
#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <unordered_map>

namespace roomcast::actors {

class topic_directory : public caf::event_based_actor {
 public:
  /// `store`: the node's store actor, handed to the rooms of durable topics.
  topic_directory(caf::actor_config& cfg, std::shared_ptr<const runtime> rt, caf::actor store);

  caf::behavior make_behavior() override;
  void on_exit() override;  // drops the room handles (rooms refer back to us)
  const char* name() const override { return "roomcast.directory"; }

 private:
  struct room_slot {
    caf::actor room;
    std::uint64_t joins_forwarded = 0;
  };
  struct room_key {
    bool raw;
    std::string topic;
  };

  /// The room of `topic`, spawned when missing; null when no channel matches or
  /// the channel factory failed.
  room_slot* room_for(const std::string& topic, bool raw);

  std::shared_ptr<const runtime> runtime_;
  caf::actor store_;
  std::unordered_map<std::string, room_slot> channel_rooms_;
  std::unordered_map<std::string, room_slot> raw_rooms_;
  std::unordered_map<caf::actor_addr, room_key> keys_;
};

}  // namespace roomcast::actors
