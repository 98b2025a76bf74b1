#pragma once
// What crosses nodes for a topic whose room lives on another node (its owner):
// joins, pushes and leaves from a node's relay to the owner's room, and the
// room's frames back to the relay, once per node. Frames travel as their
// encoded bytes; JSON as its text. Registered in register_cluster_types.

#include "net/frame.hpp"
#include "roomcast/socket_info.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace roomcast::cluster {

// Atoms (at most 10 characters in CAF 0.17).
using remote_join_atom = caf::atom_constant<caf::atom("r_join")>;    // relay -> owner's directory
using remote_push_atom = caf::atom_constant<caf::atom("r_push")>;    // relay -> owner's room
using remote_leave_atom = caf::atom_constant<caf::atom("r_leave")>;  // relay -> owner's room
using relay_atom = caf::atom_constant<caf::atom("r_frames")>;        // owner's room -> relay
using remote_api_atom = caf::atom_constant<caf::atom("r_api")>;      // directory -> owner's directory
using remote_presence_atom = caf::atom_constant<caf::atom("r_pres")>;  // directory -> owner's directory
using view_atom = caf::atom_constant<caf::atom("c_view")>;           // agent -> directory (local)
// A relay lists its members to the owner's room now and then; the room answers
// stale when it does not know one (it dropped them while the relay's node hung,
// or the link broke and came back): the relay then ends with moved_reason and
// its members join again.
using relay_audit_atom = caf::atom_constant<caf::atom("r_audit")>;  // relay -> owner's room
using relay_stale_atom = caf::atom_constant<caf::atom("r_stale")>;  // owner's room -> relay
using relay_ends_atom = caf::atom_constant<caf::atom("r_ends")>;    // relay -> its directory (local)
using node_gone_atom = caf::atom_constant<caf::atom("c_gone")>;      // directory -> rooms (local)

/// The exit reason of a room or relay whose topic moved to another owner: its
/// members are joined again, through the directory, without telling the client.
inline caf::error moved_reason() { return caf::error(1, caf::atom("rc_moved")); }

struct wire_frame {
  std::string data;
  bool binary = false;
  std::uint8_t policy = 0;
  std::uint64_t budget = 0;
  std::uint64_t seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_frame& x) {
  return f(caf::meta::type_name("roomcast.wire_frame"), x.data, x.binary, x.policy, x.budget, x.seq);
}

inline wire_frame to_wire(const net::outbound_frame& frame) {
  return {frame.data, frame.binary, static_cast<std::uint8_t>(frame.policy), frame.budget,
          frame.seq};
}

inline net::frame_ptr from_wire(wire_frame& w) {
  // A policy this build does not know is read as close, the strictest.
  auto policy = w.policy <= static_cast<std::uint8_t>(overflow_policy::drop_oldest)
                    ? static_cast<overflow_policy>(w.policy)
                    : overflow_policy::close;
  return std::make_shared<const net::outbound_frame>(net::outbound_frame{
      std::move(w.data), w.binary, policy, static_cast<std::size_t>(w.budget), w.seq});
}

/// A member's own frames (replies, pushes), each placed before the shared frame
/// at the same index of `positions`.
struct member_wire_frames {
  std::uint64_t member = 0;
  std::vector<std::uint64_t> positions;
  std::vector<wire_frame> frames;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_wire_frames& x) {
  return f(caf::meta::type_name("roomcast.member_wire_frames"), x.member, x.positions, x.frames);
}

/// What the owner's room sends one relay in one turn: frames shared by
/// `recipients` (minus `skip`, parallel to frames when not empty), frames for
/// single members, and members the room removed (after their last frames).
struct relay_frames {
  std::vector<wire_frame> frames;
  std::vector<std::uint64_t> skip;
  std::vector<std::uint64_t> recipients;
  std::vector<member_wire_frames> own;
  std::vector<std::uint64_t> gone;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, relay_frames& x) {
  return f(caf::meta::type_name("roomcast.relay_frames"), x.frames, x.skip, x.recipients, x.own,
           x.gone);
}

/// The socket as the owner's channel sees it.
struct wire_socket {
  std::string id;
  std::string user_id;
  std::string assigns;  // JSON object text
  std::string remote_address;
  std::map<std::string, std::string> params;
  bool has_expiry = false;
  std::int64_t expires_at = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_socket& x) {
  return f(caf::meta::type_name("roomcast.wire_socket"), x.id, x.user_id, x.assigns,
           x.remote_address, x.params, x.has_expiry, x.expires_at);
}

wire_socket to_wire(const socket_info& socket);
std::shared_ptr<const socket_info> from_wire(const wire_socket& w);

/// A join forwarded to the topic's owner.
struct remote_join {
  std::string topic;
  std::string join_ref;
  bool has_ref = false;
  std::string ref;
  std::string params;  // JSON text
  wire_socket socket;
  caf::actor relay;
  std::uint64_t request_id = 0;  // the relay's, echoed in the outcome
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_join& x) {
  return f(caf::meta::type_name("roomcast.remote_join"), x.topic, x.join_ref, x.has_ref, x.ref,
           x.params, x.socket, x.relay, x.request_id);
}

/// The owner's answer to a remote join, sent by its room (so that it arrives
/// before the frames the room sends the new member) or, when no room took the
/// join, by the owner's directory.
struct remote_join_outcome {
  std::uint64_t request_id = 0;
  bool accepted = false;
  std::uint64_t member_id = 0;
  wire_frame reply;
  caf::actor room;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_join_outcome& x) {
  return f(caf::meta::type_name("roomcast.remote_join_outcome"), x.request_id, x.accepted, x.member_id, x.reply,
           x.room);
}

/// A push from a member on the relay's node.
struct remote_push {
  std::uint64_t member_id = 0;
  bool has_ref = false;
  std::string ref;
  std::string event;
  std::string payload;  // JSON text (empty for a binary push)
  bool binary = false;
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remote_push& x) {
  return f(caf::meta::type_name("roomcast.remote_push"), x.member_id, x.has_ref, x.ref, x.event,
           x.payload, x.binary, x.bytes);
}

}  // namespace roomcast::cluster
