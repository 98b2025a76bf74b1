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
  /// Where `topic`'s room belongs: here (also without a cluster), on another
  /// node (its name and directory), or nowhere: a remote channel's topic
  /// (server::remote_channel) while no service node serving it is up.
  struct owner_info {
    enum class where { here, elsewhere, nobody } at = where::here;
    std::string node;
    caf::actor directory;
  };
  [[nodiscard]] owner_info owner_of(const std::string& topic) const;
  relay_slot& relay_for(const std::string& topic, const owner_info& owner);
  void on_join(join_request& req);
  /// Answers a presence query (key empty: the list) with the owner's answer.
  void ask_owner_presence(const caf::actor& owner, const std::string& topic, std::string key);
  void on_remote_join(cluster::remote_join& wire);
  /// A new membership: rooms and relays whose owner changed end (moved), rooms
  /// drop the members of nodes that left.
  void on_view(cluster::cluster_view& view);
  std::unordered_map<std::string, room_slot>& rooms_of(kind what);
  /// Forgets the relay of `key` (a relay's key): the key, and its topic's slot
  /// unless a newer relay holds it already.
  void forget_relay(std::unordered_map<caf::actor_addr, room_key>::iterator key);

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
  bool has_remote_routes_ = false;  // any server::remote_channel: placement must look at routes
};

}  // namespace roomcast::actors
