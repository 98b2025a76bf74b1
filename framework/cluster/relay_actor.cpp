#include "cluster/relay_actor.hpp"

#include "protocol/codec.hpp"
#include "protocol/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace roomcast::cluster {

using namespace actors;

wire_socket to_wire(const socket_info& socket) {
  return {socket.id,
          socket.user_id,
          boost::json::serialize(socket.assigns),
          socket.remote_address,
          socket.params,
          socket.token_expires_at.has_value(),
          socket.token_expires_at.value_or(0)};
}

std::shared_ptr<const socket_info> from_wire(const wire_socket& w) {
  auto info = std::make_shared<socket_info>();
  info->id = w.id;
  info->user_id = w.user_id;
  boost::system::error_code ec;
  auto assigns = boost::json::parse(w.assigns, ec);
  if (!ec && assigns.is_object()) info->assigns = std::move(assigns.get_object());
  info->remote_address = w.remote_address;
  info->params = w.params;
  if (w.has_expiry) info->token_expires_at = w.expires_at;
  return info;
}

relay_actor::relay_actor(caf::actor_config& cfg, std::string topic, caf::actor owner_directory,
                         caf::actor directory, std::chrono::milliseconds join_timeout)
    : caf::event_based_actor(cfg),
      topic_(std::move(topic)),
      owner_directory_(std::move(owner_directory)),
      directory_(std::move(directory)),
      join_timeout_(join_timeout) {}

namespace {
/// How often a relay lists its members to the owner's room (see relay_audit_atom).
constexpr auto audit_period = std::chrono::seconds(3);
}  // namespace

caf::behavior relay_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) { handle_down(msg); });
  delayed_send(this, audit_period, relay_audit_atom::value);
  return {
      [this](join_atom, join_request& req) { handle_join(req); },
      [this](remote_join_atom, remote_join_outcome& outcome) { on_outcome(outcome); },
      [this](join_timeout_atom, std::uint64_t request_id) {
        refuse(request_id, protocol::reasons::owner_unreachable);
      },
      [this](push_atom, push_request& req) { handle_push(req); },
      [this](leave_atom, std::uint64_t member_id, const std::optional<std::string>& ref,
             leave_reason why) { handle_leave(member_id, ref, why); },
      [this](relay_atom, relay_frames& in) { handle_frames(in); },
      [this](relay_audit_atom) {
        if (room_ && !members_.empty()) {
          std::vector<std::uint64_t> ids;
          ids.reserve(members_.size());
          for (const auto& [id, connection] : members_)
            if (!leaving_.count(id)) ids.push_back(id);
          send(room_, relay_audit_atom::value, std::move(ids));
        }
        delayed_send(this, audit_period, relay_audit_atom::value);
      },
      // The owner's room lost some of our members: all of them join again.
      [this](relay_stale_atom) {
        send(directory_, relay_ends_atom::value);
        quit(moved_reason());
      },
      [this](stop_atom) { quit(); },
  };
}

void relay_actor::on_exit() {
  // CAF 0.17 drops an undelivered promise without a word: answer every join
  // still waiting, or its connection would wait for its join timeout.
  std::vector<std::uint64_t> waiting;
  for (const auto& [id, join] : pending_) waiting.push_back(id);
  for (auto id : waiting) refuse(id, protocol::reasons::owner_unreachable, false);
  members_.clear();
  leaving_.clear();
  by_connection_.clear();
  pending_.clear();
  room_ = nullptr;
  owner_directory_ = nullptr;
  directory_ = nullptr;
}

void relay_actor::handle_join(join_request& req) {
  ++joins_seen_;
  auto id = ++next_request_;
  pending_.emplace(id, pending_join{make_response_promise(), req.connection, req.join_ref, req.ref});
  remote_join wire{req.topic,
                   req.join_ref,
                   req.ref.has_value(),
                   req.ref.value_or(""),
                   boost::json::serialize(req.params),
                   to_wire(*req.socket),
                   caf::actor_cast<caf::actor>(this),
                   id};
  send(owner_directory_, remote_join_atom::value, std::move(wire));
  // The owner answers with a message (see remote_join_outcome); a node that
  // died or hangs does not, and the joiner hears so at the timeout.
  delayed_send(this, join_timeout_, join_timeout_atom::value, id);
}

void relay_actor::on_outcome(remote_join_outcome& outcome) {
  auto it = pending_.find(outcome.request_id);
  if (it == pending_.end()) {
    // Answered after the timeout: undo what the owner accepted.
    if (outcome.accepted && outcome.room)
      send(outcome.room, remote_leave_atom::value, outcome.member_id, false, std::string{},
           static_cast<std::uint8_t>(leave_reason::left));
    return notify_if_idle();
  }
  auto join = std::move(it->second);
  pending_.erase(it);
  auto self = caf::actor_cast<caf::actor>(this);
  if (outcome.accepted && room_ && outcome.room != room_) {
    if (members_.empty()) {
      // The owner's room stopped while we had nobody, and a new one took
      // this join: follow it.
      demonitor(room_);
      room_ = nullptr;
    } else {
      // The owner's room restarted under our members: our down message for
      // the old one is on its way and ends this relay. This join does not
      // survive that: undone, and refused (never with the new room's "ok").
      send(outcome.room, remote_leave_atom::value, outcome.member_id, false, std::string{},
           static_cast<std::uint8_t>(leave_reason::left));
      pending_.emplace(outcome.request_id, std::move(join));
      return refuse(outcome.request_id, protocol::reasons::join_crashed);
    }
  }
  if (!outcome.accepted) {
    join.promise.deliver(join_outcome{false, 0, from_wire(outcome.reply), self});
    return notify_if_idle();
  }
  if (!room_) {
    room_ = outcome.room;
    monitor(room_);
  }
  members_.emplace(outcome.member_id, join.connection);
  if (by_connection_.count(join.connection.address()) == 0) monitor(join.connection);
  by_connection_.emplace(join.connection.address(), outcome.member_id);
  join.promise.deliver(join_outcome{true, outcome.member_id, from_wire(outcome.reply), self});
}

void relay_actor::refuse(std::uint64_t request_id, std::string_view reason, bool then_idle) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  auto& join = it->second;
  protocol::opt_ref ref = protocol::view(join.ref);
  join.promise.deliver(join_outcome{
      false, 0,
      net::make_frame(protocol::encode_reply(join.join_ref, ref, topic_, "error",
                                             boost::json::object{{"reason", reason}})),
      caf::actor_cast<caf::actor>(this)});
  pending_.erase(it);
  if (then_idle) notify_if_idle();
}

void relay_actor::handle_push(push_request& req) {
  if (!room_ || !members_.count(req.member_id)) return;
  remote_push wire{req.member_id, req.ref.has_value(), req.ref.value_or(""), std::move(req.event),
                   {}, req.binary.has_value(), {}};
  if (req.binary)
    wire.bytes = std::move(*req.binary);
  else
    wire.payload = boost::json::serialize(req.payload);
  send(room_, remote_push_atom::value, std::move(wire));
}

void relay_actor::handle_leave(std::uint64_t member_id, const std::optional<std::string>& ref,
                               leave_reason why) {
  if (!room_ || !members_.count(member_id)) return;
  send(room_, remote_leave_atom::value, member_id, ref.has_value(), ref.value_or(""),
       static_cast<std::uint8_t>(why));
  // With a ref the room answers; the member is forgotten once that arrived
  // (the room lists it as gone).
  if (ref)
    leaving_.insert(member_id);
  else
    forget(member_id);
}

void relay_actor::handle_frames(relay_frames& in) {
  std::vector<net::frame_ptr> shared;
  shared.reserve(in.frames.size());
  for (auto& w : in.frames) shared.push_back(from_wire(w));
  // skip must be parallel to the frames (connections index it by frame).
  if (!in.skip.empty() && in.skip.size() != shared.size()) in.skip.resize(shared.size(), 0);
  // One local batch for every member here: the frames were encoded once, on the owner.
  batch_ptr batch = std::make_shared<fanout_batch>(fanout_batch{std::move(shared), std::move(in.skip), {}});
  static const member_frames none;
  std::unordered_map<std::uint64_t, member_frames> own;
  for (auto& m : in.own) {
    member_frames frames;
    frames.reserve(m.frames.size());
    for (std::size_t i = 0; i < m.frames.size() && i < m.positions.size(); ++i)
      frames.emplace_back(static_cast<std::size_t>(m.positions[i]), from_wire(m.frames[i]));
    own.emplace(m.member, std::move(frames));
  }
  for (auto id : in.recipients) {
    auto member = members_.find(id);
    if (member == members_.end()) continue;
    auto mine = own.find(id);
    send(member->second, batch_atom::value, batch, mine == own.end() ? none : mine->second, id);
  }
  for (auto id : in.gone) forget(id);
}

void relay_actor::handle_down(const caf::down_msg& msg) {
  if (room_ && msg.source == room_.address() && !msg.reason && members_.empty()) {
    // The owner's room stopped (idle) while we had nobody: joins still on
    // their way get a new room.
    room_ = nullptr;
    return;
  }
  if (room_ && msg.source == room_.address()) {
    // The owner's room ended, and with it every join through us: moved (our
    // connections join again), crashed or unreachable (their clients get phx_error).
    // The directory forgets us first: the joins our end causes must not find us.
    send(directory_, relay_ends_atom::value);
    quit(msg.reason ? msg.reason : caf::error{caf::exit_reason::normal});
    return;
  }
  auto [first, last] = by_connection_.equal_range(msg.source);
  std::vector<std::uint64_t> ids;
  for (auto it = first; it != last; ++it) ids.push_back(it->second);
  for (auto id : ids) {
    if (room_)
      send(room_, remote_leave_atom::value, id, false, std::string{},
           static_cast<std::uint8_t>(leave_reason::closed));
    forget(id);
  }
}

void relay_actor::forget(std::uint64_t member_id) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  auto connection = it->second.address();
  members_.erase(it);
  leaving_.erase(member_id);
  auto [first, last] = by_connection_.equal_range(connection);
  for (auto m = first; m != last; ++m)
    if (m->second == member_id) {
      by_connection_.erase(m);
      break;
    }
  if (by_connection_.count(connection) == 0) demonitor(connection);
  notify_if_idle();
}

void relay_actor::notify_if_idle() {
  if (!members_.empty() || !pending_.empty()) return;
  send(directory_, idle_atom::value, joins_seen_);
}

}  // namespace roomcast::cluster
