#pragma once
// One per node: topic name -> room actor. Spawns a room on the first join,
// forwards joins to it (the room answers the joiner directly), and stops a room
// once it is idle and no join is on its way to it. Raw topics (raw endpoints)
// live in their own namespace.
//
// In a cluster a channel topic's room lives on its owner (rendezvous hashing
// over the members the node agent reports). Joins for a topic owned elsewhere
// go to this node's relay for it; joins relayed from other nodes arrive here
// as remote joins. When the membership changes, rooms and relays whose owner
// changed end with moved_reason and their members join again at the new owner.

#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "cluster/cluster_messages.hpp"
#include "cluster/relay_messages.hpp"
#include "cluster/rendezvous.hpp"

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
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
  enum class kind { channel, raw, relay };
  struct room_key {
    kind what;
    std::string topic;
  };
  struct relay_slot {
    caf::actor relay;
    std::string owner;
    caf::actor owner_directory;
    std::uint64_t joins_forwarded = 0;
  };

  /// The room of `topic`, spawned when missing; null when no channel matches or
  /// the channel factory failed.
  room_slot* room_for(const std::string& topic, bool raw);
  /// The topic's owner when it is another node (its name and directory);
  /// nullopt when this node owns it (or there is no cluster).
  std::optional<std::pair<std::string, caf::actor>> remote_owner(const std::string& topic) const;
  /// True when no live node may own `topic`: a topic of a remote channel
  /// (server::remote_channel) while no service node serving it is up.
  [[nodiscard]] bool unowned(const std::string& topic) const;
  /// The topic's owner by name; nullopt: unowned. Without a cluster: this node.
  [[nodiscard]] std::optional<std::string> owner_name(const std::string& topic) const;
  relay_slot& relay_for(const std::string& topic, const std::pair<std::string, caf::actor>& owner);
  void on_join(join_request& req);
  /// Answers a presence query (key empty: the list) with the owner's answer.
  void ask_owner_presence(const caf::actor& owner, const std::string& topic, std::string key);
  void on_remote_join(cluster::remote_join& wire);
  /// A new membership: rooms and relays whose owner changed end (moved), rooms
  /// drop the members of nodes that left.
  void on_view(cluster::cluster_view& view);
  std::unordered_map<std::string, room_slot>& rooms_of(kind what);

  std::shared_ptr<const runtime> runtime_;
  caf::actor store_;
  std::unordered_map<std::string, room_slot> channel_rooms_;
  std::unordered_map<std::string, room_slot> raw_rooms_;
  std::unordered_map<std::string, relay_slot> relays_;
  std::unordered_map<caf::actor_addr, room_key> keys_;
  // The cluster as the node agent last reported it (empty self: no cluster).
  std::string self_;
  std::map<std::string, caf::actor> peers_;  // node name -> its directory
  std::vector<cluster::placement_member> members_;  // self and peers, for placement
};

}  // namespace roomcast::actors
