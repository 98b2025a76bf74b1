#pragma once
// Atoms and message types exchanged by the node-local actors. They travel only
// inside one process (no serialization), hence CAF_ALLOW_UNSAFE_MESSAGE_TYPE.

#include "net/frame.hpp"
#include "roomcast/channel.hpp"
#include "roomcast/socket_info.hpp"

#include <boost/json/value.hpp>
#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace roomcast::actors {

// -- atoms (at most 10 characters in CAF 0.17) ------------------------------------

using inbound_atom = caf::atom_constant<caf::atom("inbound")>;      // session -> connection
using closed_atom = caf::atom_constant<caf::atom("closed")>;        // session -> connection
using dropped_atom = caf::atom_constant<caf::atom("dropped")>;      // session -> connection
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;      // room -> connection
using join_atom = caf::atom_constant<caf::atom("join")>;            // connection -> directory -> room
using push_atom = caf::atom_constant<caf::atom("push")>;            // connection -> room
// (leave_atom, member_id, optional ref, leave_reason): the room replies ok to the
// ref when there is one, then calls on_leave.
using leave_atom = caf::atom_constant<caf::atom("leave")>;          // connection -> room
using idle_atom = caf::atom_constant<caf::atom("idle")>;            // room -> directory
using stop_atom = caf::atom_constant<caf::atom("stop")>;            // directory -> room
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;  // raw connection -> directory -> room
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;          // raw connection -> room
using publish_atom = caf::atom_constant<caf::atom("publish")>;      // raw connection -> room
using timer_atom = caf::atom_constant<caf::atom("timer")>;          // room -> itself
using tick_atom = caf::atom_constant<caf::atom("hb_check")>;        // connection -> itself
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;    // server -> directory
using join_timeout_atom = caf::atom_constant<caf::atom("join_tmo")>; // connection -> itself
using presence_atom = caf::atom_constant<caf::atom("presence")>;     // server -> directory -> room
using flush_atom = caf::atom_constant<caf::atom("flush")>;           // room -> itself (presence)
using fanout_atom = caf::atom_constant<caf::atom("fanout")>;         // room -> itself (batch)
using batch_atom = caf::atom_constant<caf::atom("batch")>;           // room -> connection
// HTTP API (server -> directory -> room): a broadcast from another service, the
// rooms and their member counts, closing a user's sockets.
using api_atom = caf::atom_constant<caf::atom("api_bcast")>;         // -> directory -> room
using rooms_atom = caf::atom_constant<caf::atom("rooms")>;           // -> directory
using count_atom = caf::atom_constant<caf::atom("count")>;           // -> room
using disconnect_atom = caf::atom_constant<caf::atom("disconnect")>; // -> connection
using run_atom = caf::atom_constant<caf::atom("run")>;               // dispatcher -> room
using join_expire_atom = caf::atom_constant<caf::atom("join_exp")>;  // room -> itself
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;         // connection -> itself
using expired_atom = caf::atom_constant<caf::atom("expired")>;       // connection -> itself

using socket_ptr = std::shared_ptr<const socket_info>;

/// The directory's channel rooms, for GET /api/topics.
using room_list = std::vector<std::pair<std::string, caf::actor>>;

/// A phx_join on its way to the topic's room.
struct join_request {
  std::string topic;
  std::string join_ref;
  std::optional<std::string> ref;
  boost::json::value params;
  socket_ptr socket;
  caf::actor connection;
  net::gauge_ptr backlog;  ///< the socket's unsent bytes, for send_status estimates
  /// A join from another node: `connection` is that node's relay for the topic,
  /// answered with a message carrying this id rather than a response.
  bool remote = false;
  std::uint64_t remote_request = 0;
};

/// The room's answer to a join; the encoded phx_reply goes to the socket.
struct join_outcome {
  bool accepted = false;
  std::uint64_t member_id = 0;
  net::frame_ptr reply;
  caf::actor room;
};

/// What a room emitted while its mailbox had work: frames for every member (each
/// broadcast encoded once), shared by all members in one message each.
struct fanout_batch {
  std::vector<net::frame_ptr> frames;
  /// Parallel to frames when some are broadcast_from: the member id each skips
  /// (0: nobody). Empty when no frame skips anyone.
  std::vector<std::uint64_t> skip;
  /// When its first frame was added (fan-out latency is measured from here;
  /// unset for a join's replay).
  std::chrono::steady_clock::time_point started{};
};
using batch_ptr = std::shared_ptr<const fanout_batch>;

/// Frames for one member only (replies, pushes), each placed before the shared
/// frame at `position` so the member sees everything in the order it was emitted.
using member_frames = std::vector<std::pair<std::size_t, net::frame_ptr>>;

/// A push from a joined member to its room.
struct push_request {
  std::uint64_t member_id = 0;
  std::optional<std::string> ref;
  std::string event;
  boost::json::value payload;
  std::optional<std::string> binary;
};

}  // namespace roomcast::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::net::frame_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::join_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::join_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::push_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::member_frames)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::optional<std::string>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::leave_reason)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(boost::json::value)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(roomcast::actors::room_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::function<void()>)
