#pragma once
// A topic's relay on a node that is not the topic's owner: one per topic per
// node with members of it. To local connections it looks like the room (joins,
// pushes and leaves go to it; its exit is the room's). It forwards them to the
// room on the owner node and fans the room's frames out to its members: a
// broadcast crosses the network once per node, never once per member.
//
// It ends with the owner's room: with moved_reason when the topic moved (the
// connections join again, silently), with the room's reason when it crashed or
// its node went away (the clients get phx_error and rejoin).

#include "actors/messages.hpp"
#include "cluster/relay_messages.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace roomcast::cluster {

class relay_actor : public caf::event_based_actor {
 public:
  /// `owner_directory`: the directory of the node that owns `topic`.
  relay_actor(caf::actor_config& cfg, std::string topic, caf::actor owner_directory,
              caf::actor directory, std::chrono::milliseconds join_timeout);

  caf::behavior make_behavior() override;
  void on_exit() override;
  const char* name() const override { return "roomcast.relay"; }

 private:
  struct pending_join {
    caf::response_promise promise;
    caf::actor connection;
    std::string join_ref;
    std::optional<std::string> ref;
  };

  void handle_join(actors::join_request& req);
  void on_outcome(remote_join_outcome& outcome);
  /// The owner did not answer within the join timeout (or refused to route it).
  void refuse(std::uint64_t request_id, std::string_view reason, bool then_idle = true);
  void handle_push(actors::push_request& req);
  void handle_leave(std::uint64_t member_id, const std::optional<std::string>& ref,
                    leave_reason why);
  void handle_frames(relay_frames& in);
  void handle_down(const caf::down_msg& msg);
  void forget(std::uint64_t member_id);
  void notify_if_idle();

  std::string topic_;
  caf::actor owner_directory_;
  caf::actor directory_;
  std::chrono::milliseconds join_timeout_;
  caf::actor room_;  // the owner's room, once a join was accepted
  std::unordered_map<std::uint64_t, caf::actor> members_;  // the room's member id -> connection
  std::unordered_set<std::uint64_t> leaving_;  // left with a ref: the room's answer is due
  std::unordered_multimap<caf::actor_addr, std::uint64_t> by_connection_;
  std::unordered_map<std::uint64_t, pending_join> pending_;  // by request id
  std::uint64_t next_request_ = 0;
  std::uint64_t joins_seen_ = 0;
};

}  // namespace roomcast::cluster
