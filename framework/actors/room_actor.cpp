#include "actors/room_actor.hpp"

#include "protocol/codec.hpp"
#include "protocol/errors.hpp"
#include "store/store_actor.hpp"
#include "util/log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <cstdio>
#include <random>

namespace roomcast::actors {

using protocol::opt_ref;
using protocol::view;

namespace {
const json::value empty_object = json::object();
}

room_actor::room_actor(caf::actor_config& cfg, std::string topic,
                       std::unique_ptr<channel> handler, caf::actor directory,
                       room_settings settings)
    : caf::event_based_actor(cfg),
      topic_(std::move(topic)),
      handler_(std::move(handler)),
      directory_(std::move(directory)),
      settings_(std::move(settings)),
      policy_(settings_.default_policy),
      budget_(settings_.default_budget) {
  if (handler_) {
    if (auto chosen = handler_->outbound_policy()) policy_ = *chosen;
    if (auto chosen = handler_->outbound_budget()) budget_ = *chosen;
  }
  std::random_device random;
  char prefix[24];
  std::snprintf(prefix, sizeof prefix, "F%08x%08x", random(), random());
  phx_ref_prefix_ = prefix;
  if (handler_) handler_->bind(*this);
  durable_ = handler_ && (settings_.durable || handler_->durable());
  // Backstop: every channel callback is already guarded; this catches the rest.
  set_exception_handler([this](caf::scheduled_actor*, std::exception_ptr&) -> caf::error {
    log::error("room", "unexpected exception in room", {{"topic", topic_}});
    return caf::exit_reason::unhandled_exception;
  });
}

caf::behavior room_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) { handle_down(msg); });
  return {
      [this](join_atom, join_request& req) { handle_join(req); },
      [this](push_atom, push_request& req) { handle_push(req); },
      [this](leave_atom, std::uint64_t member_id, const std::optional<std::string>& ref,
             leave_reason why) { handle_leave(member_id, ref, why); },
      // Members on other nodes, through their node's relay.
      [this](cluster::remote_push_atom, cluster::remote_push& wire) { handle_remote_push(wire); },
      [this](cluster::remote_leave_atom, std::uint64_t member_id, bool has_ref, std::string& ref,
             std::uint8_t why) {
        auto it = members_.find(member_id);
        if (!current_sender() || it == members_.end() || !it->second.remote ||
            it->second.connection.address() != current_sender()->address())
          return;
        handle_leave(member_id, has_ref ? std::optional<std::string>(std::move(ref)) : std::nullopt,
                     why <= static_cast<std::uint8_t>(leave_reason::closed)
                         ? static_cast<leave_reason>(why)
                         : leave_reason::closed);
      },
      [this](cluster::relay_audit_atom, const std::vector<std::uint64_t>& ids) {
        if (!current_sender()) return;
        auto relay = current_sender()->address();
        for (auto id : ids) {
          auto it = members_.find(id);
          if (it == members_.end() || it->second.connection.address() != relay) {
            send(caf::actor_cast<caf::actor>(current_sender()), cluster::relay_stale_atom::value);
            return;
          }
        }
      },
      // A node left the cluster (it may hang rather than have closed its links).
      [this](cluster::node_gone_atom, const caf::node_id& node) {
        std::map<caf::actor_addr, caf::actor> gone;
        for (const auto& [addr, id] : members_by_connection_)
          if (addr.node() == node) gone.emplace(addr, members_.at(id).connection);
        for (const auto& [addr, relay] : gone) {
          drop_connection(addr);
          // A hung node that wakes up finds its relay ended (moved): its
          // members join again instead of believing they still are.
          send_exit(relay, cluster::moved_reason());
        }
        notify_if_idle();
      },
      [this](subscribe_atom, const caf::actor& connection) -> caf::actor {
        ++joins_seen_;
        if (subscribers_.emplace(connection.address(), connection).second) monitor(connection);
        return caf::actor_cast<caf::actor>(this);
      },
      [this](unsub_atom, const caf::actor& connection) {
        if (subscribers_.erase(connection.address()) > 0) demonitor(connection);
        notify_if_idle();
      },
      [this](publish_atom, const net::frame_ptr& frame) { fan_out(frame, 0); },
      [this](fanout_atom) {
        outbound_scheduled_ = false;
        flush_outbound();
        send_durable();
      },
      [this](timer_atom, timer_id id) { handle_timer(id); },
      [this](run_atom, std::function<void()>& fn) {
        guarded("dispatched callback", fn);
        notify_if_idle();
      },
      [this](join_expire_atom, std::uint64_t id) {
        auto it = members_.find(id);
        if (it == members_.end() || !it->second.undecided) return;
        auto pending = std::move(it->second.undecided);
        refuse_join(id, pending->answer, pending->ref,
                    json::object{{"reason", protocol::reasons::join_timeout}});
      },
      [this](flush_atom, bool with_diff) {
        if (with_diff) {
          diff_flush_scheduled_ = false;
          flush_presence_diff(flush_presence_states());
        } else {
          state_flush_scheduled_ = false;
          flush_presence_states();
        }
      },
      [this](api_atom, std::string& event, json::value& payload) { handle_api(event, payload); },
      [this](count_atom) -> std::uint64_t { return member_count() + subscribers_.size(); },
      [this](presence_atom) -> json::value { return presence_.list(); },
      [this](presence_atom, const std::string& key) -> json::value {
        if (auto found = presence_.get(key)) return std::move(*found);
        return nullptr;
      },
      [this](stop_atom) { quit(); },
  };
}

void room_actor::on_exit() {
  // Joins still waiting (for complete_join, or for the store) get an answer:
  // CAF 0.17 would drop their promises without a word.
  for (auto& [id, entry] : members_) {
    join_answer* to = entry.undecided ? &entry.undecided->answer
                                      : entry.recovering ? &entry.recovering->answer : nullptr;
    if (!to) continue;
    const auto& ref = entry.undecided ? entry.undecided->ref : entry.recovering->ref;
    answer(*to, join_outcome{false, 0,
                             net::make_frame(protocol::encode_reply(
                                 entry.info.join_ref(), view(ref), topic_,
                                 "error", json::object{{"reason", protocol::reasons::join_crashed}})),
                             caf::actor_cast<caf::actor>(this)});
  }
  if (!crashed_) {
    flush_outbound();
    // Stored even though nobody is left to hear of the commit: a rejoin with
    // "since" finds them.
    if (!unsent_.broadcasts.empty()) {
      store::append_group group{topic_, {}};
      for (auto& b : unsent_.broadcasts) group.records.push_back({std::move(b.event), std::move(b.body)});
      caf::anon_send(settings_.store, store::append_atom::value, std::move(group));
    }
  }
  unsent_ = {};
  settings_.store = nullptr;
  members_.clear();
  members_by_connection_.clear();
  relay_out_.clear();
  subscribers_.clear();
  timers_.clear();
  handler_.reset();
  directory_ = nullptr;
}

// -- crash handling -------------------------------------------------------------------

template <class F>
bool room_actor::guarded(const char* what, F&& fn) {
  if (crashed_) return false;
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    log::error("room", "channel callback threw; room restarts on next join",
               {{"topic", topic_}, {"callback", what}, {"error", e.what()}});
  } catch (...) {
    log::error("room", "channel callback threw; room restarts on next join",
               {{"topic", topic_}, {"callback", what}});
  }
  flush_outbound();  // what earlier callbacks emitted still goes out
  crashed_ = true;
  quit(caf::exit_reason::unhandled_exception);
  return false;
}

// -- joins, pushes, leaves ------------------------------------------------------------

void room_actor::handle_join(join_request& req) {
  flush_outbound();  // the joiner must not receive what was emitted before it joined
  join_answer to;
  if (req.remote) {
    to.relay = req.connection;
    to.request_id = req.remote_request;
  } else {
    to.promise = make_response_promise();
  }
  ++joins_seen_;
  opt_ref ref_view = view(req.ref);
  auto refuse = [&](const json::value& response) {
    answer(to, join_outcome{false, 0,
                            net::make_frame(protocol::encode_reply(req.join_ref, ref_view, topic_,
                                                                   "error", response)),
                            caf::actor_cast<caf::actor>(this)});
  };
  if (crashed_ || !handler_) {
    refuse(json::object{{"reason", protocol::reasons::join_crashed}});
    return;
  }
  bool invalid_recovery = false;
  auto wanted = durable_ ? recovery_params(req.params, invalid_recovery) : std::nullopt;
  if (invalid_recovery) {
    refuse(json::object{{"reason", protocol::reasons::invalid_since}});
    return;
  }
  std::uint64_t id = ++next_member_id_;
  auto [it, inserted] = members_.emplace(
      id, member_entry{member(id, req.join_ref, req.socket), req.connection, true, {}, {},
                       req.backlog, nullptr, req.remote, nullptr});
  join_result result = join_result::refuse(protocol::reasons::join_crashed);
  if (!guarded("on_join", [&] { result = handler_->on_join(req.params, it->second.info); })) {
    refuse(json::object{{"reason", protocol::reasons::join_crashed}});
    return;
  }
  if (result.deferred()) {
    // Decided later (channel::complete_join); refused if that takes too long.
    it->second.undecided = std::make_unique<deferred_join>(
        deferred_join{std::move(to), req.ref, std::move(wanted)});
    delayed_send(this, settings_.join_timeout, join_expire_atom::value, id);
    return;
  }
  if (!result.accepted()) {
    refuse_join(id, to, req.ref, result.response());
    return;
  }
  accept_join(id, to, req.ref, result.response(), std::move(wanted));
}

void room_actor::refuse_join(std::uint64_t id, join_answer& to, const std::optional<std::string>& ref,
                             const json::value& response) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  opt_ref ref_view = view(ref);
  answer(to, join_outcome{false, 0,
                          net::make_frame(protocol::encode_reply(it->second.info.join_ref(), ref_view,
                                                                 topic_, "error", response)),
                          caf::actor_cast<caf::actor>(this)});
  // Whatever on_join tracked before refusing goes too (join + leave cancel out).
  publish_presence(presence_.untrack_owner(id));
  members_.erase(id);
  notify_if_idle();
}

void room_actor::accept_join(std::uint64_t id, join_answer& to, const std::optional<std::string>& ref,
                             const json::value& response, std::optional<recovery> wanted) {
  // Broadcasts made during on_join go to the members already there, not to the
  // joiner (it is still "joining", so this flush skips it).
  flush_outbound();
  util::counters::bump(settings_.counters->joins);
  auto& entry = members_.at(id);
  // One monitor per connection (or relay), however many members it brings.
  if (members_by_connection_.count(entry.connection.address()) == 0) monitor(entry.connection);
  members_by_connection_.emplace(entry.connection.address(), id);
  if (wanted) {
    // The reply waits for the store; live frames meanwhile wait in `deferred`.
    wanted->answer = std::move(to);
    wanted->response = response;
    wanted->ref = ref;
    auto since = wanted->since;
    auto limit = wanted->since_mode ? settings_.max_replay : wanted->limit;
    entry.recovering = std::make_unique<recovery>(std::move(*wanted));
    request(settings_.store, caf::infinite, store::read_atom::value, topic_, since,
            static_cast<std::uint64_t>(limit), true)
        .then([this, id](history_page& page) { finish_recovery(id, &page); },
              [this, id](caf::error&) { finish_recovery(id, nullptr); });
    return;
  }
  opt_ref ref_view = view(ref);
  finish_join(entry, to,
              net::make_frame(protocol::encode_reply(entry.info.join_ref(), ref_view, topic_, "ok",
                                                     response)),
              {}, 0);
}

bool room_actor::complete_join(const member& who, join_result result) {
  auto it = members_.find(who.id());
  if (it == members_.end() || !it->second.undecided || result.deferred()) return false;
  auto pending = std::move(it->second.undecided);
  if (result.accepted())
    accept_join(who.id(), pending->answer, pending->ref, result.response(), std::move(pending->wanted));
  else
    refuse_join(who.id(), pending->answer, pending->ref, result.response());
  return true;
}

pending_reply room_actor::current_push() const { return current_push_; }

void room_actor::reply_later(const pending_reply& to, reply answer) {
  auto it = members_.find(to.member_id);
  if (it == members_.end() || !to.ref || answer.what() == reply::kind::none) return;
  deliver_to(it->second, reply_frame(it->second, to.ref, answer));
}

room_dispatcher room_actor::dispatcher() {
  caf::weak_actor_ptr self = caf::actor_cast<caf::weak_actor_ptr>(ctrl());
  return [self](std::function<void()> fn) {
    if (auto strong = self.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), run_atom::value, std::move(fn));
  };
}

void room_actor::answer(join_answer& to, join_outcome outcome) {
  if (!to.relay) {
    to.promise.deliver(std::move(outcome));
    return;
  }
  cluster::remote_join_outcome wire{to.request_id, outcome.accepted, outcome.member_id,
                                    outcome.reply ? cluster::to_wire(*outcome.reply)
                                                  : cluster::wire_frame{},
                                    std::move(outcome.room)};
  send(to.relay, cluster::remote_join_atom::value, std::move(wire));
}

void room_actor::finish_join(member_entry& entry, join_answer& to,
                               const net::frame_ptr& reply, std::vector<net::frame_ptr> first,
                               std::uint64_t replayed_upto) {
  auto id = entry.info.id();
  answer(to, join_outcome{true, id, reply, caf::actor_cast<caf::actor>(this)});
  // After the reply: the replayed history, then the frames produced for the
  // joiner meanwhile (during on_join, or live while the store was read), minus
  // durable ones the replay already holds.
  entry.joining = false;
  for (auto& frame : entry.deferred)
    if (frame->seq == 0 || frame->seq > replayed_upto) first.push_back(std::move(frame));
  entry.deferred.clear();
  if (!first.empty()) {
    if (entry.remote) {
      auto& out = relay_out(entry);
      cluster::member_wire_frames mine{id, {}, {}};
      for (const auto& f : first) {
        mine.positions.push_back(0);
        mine.frames.push_back(cluster::to_wire(*f));
      }
      out.recipients.push_back(id);
      out.own.push_back(std::move(mine));
      send_relays();
    } else {
      send(entry.connection, batch_atom::value,
           batch_ptr(std::make_shared<fanout_batch>(fanout_batch{std::move(first), {}, {}})),
           member_frames{}, id);
    }
  }
  if (handler_->uses_presence()) {
    // presence_state follows once the mailbox is drained: every joiner of a
    // burst then shares one encoding of the list (which holds what on_join tracked).
    awaiting_state_.push_back(id);
    if (!state_flush_scheduled_) {
      state_flush_scheduled_ = true;
      send(this, flush_atom::value, false);
    }
  }
}

void room_actor::handle_push(push_request& req) {
  auto it = members_.find(req.member_id);
  if (it == members_.end() || !handler_) return;  // left meanwhile
  auto queued = mailbox().size();
  util::counters::raise(settings_.counters->room_mailbox_high_water, queued);
  if (queued > settings_.max_mailbox) {
    // Behind by more than the bound: refuse new work instead of queueing without end.
    util::counters::bump(settings_.counters->overloaded_pushes);
    opt_ref ref = view(req.ref);
    deliver_to(it->second, net::make_frame(protocol::encode_reply(
                               it->second.info.join_ref(), ref, topic_, "error",
                               json::object{{"reason", protocol::reasons::overloaded}})));
    return;
  }
  reply answer = reply::none();
  auto durable_before = unsent_.broadcasts.size();
  const member& from = it->second.info;
  current_push_ = pending_reply{req.member_id, req.ref};
  bool ok = guarded("on_event", [&] {
    answer = req.binary ? handler_->on_binary(req.event, *req.binary, from)
                        : handler_->on_event(req.event, req.payload, from);
  });
  current_push_ = {};
  if (!ok || answer.what() == reply::kind::none) return;
  if (unsent_.broadcasts.size() > durable_before) {
    // Acknowledged only once what it broadcast is committed.
    unsent_.replies.push_back(
        held_reply{req.member_id, req.ref, std::move(answer), unsent_.broadcasts.size() - 1});
    return;
  }
  it = members_.find(req.member_id);
  if (it == members_.end()) return;
  deliver_to(it->second, reply_frame(it->second, req.ref, answer));  // in order with its broadcasts
}

void room_actor::handle_remote_push(cluster::remote_push& wire) {
  if (!current_sender()) return;
  auto it = members_.find(wire.member_id);
  if (it == members_.end() || !it->second.remote ||
      it->second.connection.address() != current_sender()->address()) {
    // A member we dropped (its node hung, or the link broke): the relay starts over.
    send(caf::actor_cast<caf::actor>(current_sender()), cluster::relay_stale_atom::value);
    return;
  }
  push_request req{wire.member_id, wire.has_ref ? std::optional<std::string>(std::move(wire.ref))
                                                : std::nullopt,
                   std::move(wire.event), {}, std::nullopt};
  if (wire.binary) {
    req.binary = std::move(wire.bytes);
  } else {
    boost::system::error_code ec;
    req.payload = json::parse(wire.payload, ec);
    if (ec) return;  // the relay serialised it: cannot happen short of a bug
  }
  handle_push(req);
}

net::frame_ptr room_actor::reply_frame(const member_entry& entry,
                                       const std::optional<std::string>& ref,
                                       const reply& answer) const {
  const auto& join_ref = entry.info.join_ref();
  std::string_view status = answer.what() == reply::kind::ok ? "ok" : "error";
  if (answer.is_binary())
    return net::make_frame(
        protocol::encode_binary_reply(join_ref, ref.value_or(""), topic_, status, answer.bytes()),
        true);
  return net::make_frame(protocol::encode_reply(join_ref, view(ref),
                                                topic_, status, answer.response()));
}

void room_actor::handle_leave(std::uint64_t member_id, const std::optional<std::string>& ref,
                              leave_reason why) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  flush_outbound();  // what the member was sent before it left still reaches it
  if (ref) {
    // Answered here, so the reply follows every frame the room sent before it.
    auto frame = net::make_frame(
        protocol::encode_reply(it->second.info.join_ref(), *ref, topic_, "ok", empty_object));
    // A relay forgets the member after this reply.
    if (it->second.remote) relay_out(it->second).gone.push_back(member_id);
    send_direct(frame, {member_id});
  }
  remove_member(member_id, why);
  notify_if_idle();
}

void room_actor::handle_down(const caf::down_msg& msg) {
  subscribers_.erase(msg.source);
  drop_connection(msg.source);
  notify_if_idle();
}

void room_actor::drop_connection(const caf::actor_addr& connection) {
  auto [first, last] = members_by_connection_.equal_range(connection);
  std::vector<std::uint64_t> ids;
  for (auto it = first; it != last; ++it) ids.push_back(it->second);
  members_by_connection_.erase(connection);
  for (auto id : ids) {
    if (crashed_) return;
    auto it = members_.find(id);
    if (it == members_.end()) continue;
    member who = it->second.info;
    members_.erase(it);
    publish_presence(presence_.untrack_owner(id));
    if (handler_) guarded("on_leave", [&] { handler_->on_leave(who, leave_reason::closed); });
  }
}

void room_actor::remove_member(std::uint64_t member_id, leave_reason why) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  member who = it->second.info;
  auto connection = it->second.connection.address();
  members_.erase(it);
  publish_presence(presence_.untrack_owner(member_id));
  auto [first, last] = members_by_connection_.equal_range(connection);
  for (auto m = first; m != last; ++m) {
    if (m->second == member_id) {
      members_by_connection_.erase(m);
      break;
    }
  }
  forget_connection_if_unused(connection);
  if (handler_) guarded("on_leave", [&] { handler_->on_leave(who, why); });
}

void room_actor::forget_connection_if_unused(const caf::actor_addr& connection) {
  if (members_by_connection_.count(connection) == 0 && subscribers_.count(connection) == 0)
    demonitor(connection);
}

void room_actor::notify_if_idle() {
  if (crashed_ || !members_.empty() || !subscribers_.empty()) return;
  // Durable broadcasts not committed yet: their pushers or API callers wait.
  if (durable_in_flight_ > 0 || !unsent_.broadcasts.empty()) return;
  if (handler_ && handler_->keep_when_empty()) return;
  // The directory stops us only if no join is on its way here.
  send(directory_, idle_atom::value, joins_seen_);
}

// -- fan-out ----------------------------------------------------------------------------

void room_actor::deliver_to(member_entry& entry, const net::frame_ptr& frame) {
  if (entry.joining) {
    entry.deferred.push_back(frame);
    return;
  }
  member_frames_[entry.info.id()].emplace_back(batch_->frames.size(), frame);
  schedule_outbound();
}

broadcast_result room_actor::fan_out(const net::frame_ptr& frame, std::uint64_t except) {
  auto& batch = *batch_;
  if (except != 0 || !batch.skip.empty()) {
    batch.skip.resize(batch.frames.size(), 0);  // skip stays parallel to frames
    batch.skip.push_back(except);
  }
  if (batch.frames.empty()) batch.started = std::chrono::steady_clock::now();
  batch.frames.push_back(frame);
  schedule_outbound();
  auto result = estimate_all(frame->data.size(), frame->budget, frame->policy, except);
  auto& counters = *settings_.counters;
  util::counters::bump(counters.broadcasts);
  util::counters::bump(counters.deliveries, result.success + result.backpressure);
  return result;
}

broadcast_result room_actor::estimate_all(std::size_t size, std::size_t budget,
                                          overflow_policy policy, std::uint64_t except) const {
  broadcast_result result;
  for (const auto& [id, entry] : members_) {
    if (entry.joining || except == id) continue;
    switch (estimate(entry, size, budget, policy)) {
      case send_status::success: ++result.success; break;
      case send_status::backpressure: ++result.backpressure; break;
      case send_status::dropped: ++result.dropped; break;
    }
  }
  return result;
}

send_status room_actor::estimate(const member_entry& entry, std::size_t size, std::size_t budget,
                                 overflow_policy policy) const {
  if (!entry.backlog) return send_status::success;
  return net::estimate_send(*entry.backlog, size, budget ? budget : settings_.default_budget,
                            policy);
}

net::frame_ptr room_actor::channel_frame(std::string data, bool binary) const {
  return net::make_frame(std::move(data), binary, policy_, budget_);
}

void room_actor::schedule_outbound() {
  if (outbound_scheduled_) return;
  outbound_scheduled_ = true;
  // Queued behind what is already in the mailbox: broadcasts caused by those
  // messages join this batch; an idle room sends it right away.
  send(this, fanout_atom::value);
}

void room_actor::flush_outbound() {
  if (batch_->frames.empty() && member_frames_.empty()) return;
  batch_ptr shared = std::exchange(batch_, std::make_shared<fanout_batch>());
  auto own = std::exchange(member_frames_, {});
  static const member_frames none;
  std::vector<cluster::wire_frame> wire_shared;  // encoded for the wire once, if a relay needs it
  for (auto& [id, entry] : members_) {
    if (entry.joining) {
      // Not joined yet: gets nothing emitted before, unless it is replaying
      // history, which must run into the live frames without a gap.
      if (entry.recovering)
        for (std::size_t i = 0; i < shared->frames.size(); ++i)
          if (i >= shared->skip.size() || shared->skip[i] != id)
            entry.deferred.push_back(shared->frames[i]);
      continue;
    }
    auto mine = own.find(id);
    if (shared->frames.empty() && mine == own.end()) continue;
    if (entry.remote) {
      // One message per relay, holding the shared frames once.
      auto& out = relay_out(entry);
      if (out.frames.empty() && !shared->frames.empty()) {
        if (wire_shared.empty())
          for (const auto& f : shared->frames) wire_shared.push_back(cluster::to_wire(*f));
        out.frames = wire_shared;
        out.skip = shared->skip;
      }
      out.recipients.push_back(id);
      if (mine != own.end()) {
        cluster::member_wire_frames frames{id, {}, {}};
        for (const auto& [position, frame] : mine->second) {
          frames.positions.push_back(position);
          frames.frames.push_back(cluster::to_wire(*frame));
        }
        out.own.push_back(std::move(frames));
      }
      continue;
    }
    send(entry.connection, batch_atom::value, shared,
         mine == own.end() ? none : std::move(mine->second), id);
  }
  send_relays();
  if (!shared->frames.empty())
    for (auto& [addr, connection] : subscribers_)
      send(connection, batch_atom::value, shared, none, std::uint64_t{0});
}

broadcast_result room_actor::broadcast(std::string_view event, const json::value& payload,
                                       const member* except) {
  if (durable_) return broadcast_durable(event, payload, except);
  // Broadcasts carry a null join_ref so that one encoded frame serves everyone.
  return fan_out(channel_frame(protocol::encode_text(std::nullopt, std::nullopt, topic_, event,
                                                     payload),
                               false),
                 except ? except->id() : 0);
}

broadcast_result room_actor::broadcast_binary(std::string_view event, std::string_view bytes,
                                              const member* except) {
  // Durable topics store JSON broadcasts only: binary ones stay live-only.
  return fan_out(channel_frame(protocol::encode_binary_broadcast(topic_, event, bytes), true),
                 except ? except->id() : 0);
}

send_status room_actor::push(const member& to, std::string_view event,
                             const json::value& payload) {
  auto it = members_.find(to.id());
  if (it == members_.end()) return send_status::dropped;
  return push_frame(it->second, channel_frame(protocol::encode_text(it->second.info.join_ref(),
                                                                    std::nullopt, topic_, event,
                                                                    payload),
                                              false));
}

send_status room_actor::push_binary(const member& to, std::string_view event,
                                    std::string_view bytes) {
  auto it = members_.find(to.id());
  if (it == members_.end()) return send_status::dropped;
  return push_frame(it->second,
                    channel_frame(protocol::encode_binary_push(it->second.info.join_ref(), topic_,
                                                               event, bytes),
                                  true));
}

send_status room_actor::push_frame(member_entry& entry, const net::frame_ptr& frame) {
  auto status = entry.joining ? send_status::success
                              : estimate(entry, frame->data.size(), frame->budget, frame->policy);
  deliver_to(entry, frame);
  return status;
}

std::size_t room_actor::member_count() const {
  std::size_t n = 0;
  for (const auto& [id, entry] : members_)
    if (!entry.joining) ++n;
  return n;
}

void room_actor::for_each_member(const std::function<void(const member&)>& fn) const {
  for (const auto& [id, entry] : members_)
    if (!entry.joining) fn(entry.info);
}

// -- durable topics ---------------------------------------------------------------------

broadcast_result room_actor::broadcast_durable(std::string_view event, const json::value& payload,
                                               const member* except) {
  const auto* object = payload.if_object();
  if (!object) {
    static log::rate_limiter limiter;  // a channel may do this on every push
    log::limited(limiter, log::level::warn, "room",
                 "durable broadcast refused: its payload is not a JSON object",
                 {{"topic", topic_}, {"event", std::string(event)}});
    broadcast_result refused;
    refused.dropped = member_count();
    return refused;
  }
  json::object body = *object;
  body.erase("seq");  // the store's seq replaces any the payload had
  durable_broadcast pending{std::string(event), json::serialize(body), except ? except->id() : 0};
  // Judged now, by the size of the frame it will become (envelope and seq included).
  auto size = pending.body.size() + topic_.size() + event.size() + 40;
  unsent_.broadcasts.push_back(std::move(pending));
  schedule_outbound();
  return estimate_all(size, budget_, policy_, except ? except->id() : 0);
}

void room_actor::send_durable() {
  if (unsent_.broadcasts.empty()) return;
  auto group = std::make_shared<durable_group>(std::exchange(unsent_, {}));
  ++durable_in_flight_;
  store::append_group records{topic_, {}};
  records.records.reserve(group->broadcasts.size());
  for (const auto& b : group->broadcasts) records.records.push_back({b.event, b.body});
  // The store answers in order, so commits are fanned out in seq order.
  request(settings_.store, caf::infinite, store::append_atom::value, std::move(records))
      .then([this, group](std::uint64_t first_seq) { on_committed(*group, first_seq); },
            [this, group](caf::error&) { on_store_failed(*group); });
}

net::frame_ptr room_actor::durable_frame(std::string_view event, std::string_view payload,
                                         std::uint64_t seq, std::size_t budget) const {
  return std::make_shared<const net::outbound_frame>(net::outbound_frame{
      protocol::encode_text_raw(std::nullopt, std::nullopt, topic_, event, payload), false,
      policy_, budget ? budget : budget_, seq});
}

void room_actor::on_committed(durable_group& group, std::uint64_t first_seq) {
  --durable_in_flight_;
  for (std::size_t i = 0; i < group.broadcasts.size(); ++i) {
    const auto& b = group.broadcasts[i];
    auto seq = first_seq + i;
    fan_out(durable_frame(b.event, store::with_seq(b.body, seq), seq), b.except);
  }
  for (auto& held : group.replies) {
    auto it = members_.find(held.member_id);
    if (it == members_.end()) continue;  // left meanwhile
    reply answer = std::move(held.answer);
    if (answer.what() == reply::kind::ok && answer.response().is_object()) {
      json::object response = answer.response().get_object();
      response["seq"] = first_seq + held.last_broadcast;
      answer = reply::ok(std::move(response));
    }
    deliver_to(it->second, reply_frame(it->second, held.ref, answer));
  }
  for (auto& [promise, index] : group.api_waiters)
    promise.deliver(json::value(json::object{{"seq", first_seq + index}}));
  notify_if_idle();  // a room started for an API broadcast may stop again
}

void room_actor::handle_api(const std::string& event, const json::value& payload) {
  ++joins_seen_;  // the directory counted it (see topic_directory)
  // Answered through the promise: a caf::result<json::value> would brace-construct
  // the value (json::value{v} is an array holding v).
  auto promise = make_response_promise<json::value>();
  if (crashed_ || !handler_) {
    promise.deliver(caf::make_error(caf::sec::runtime_error, std::string("unknown_topic")));
    return;
  }
  if (!durable_) {
    auto result = broadcast(event, payload, nullptr);
    promise.deliver(json::value(json::object{{"members", result.success + result.backpressure}}));
    notify_if_idle();
    return;
  }
  if (!payload.is_object()) {
    promise.deliver(caf::make_error(caf::sec::runtime_error,
                                    std::string("durable topics take object payloads")));
    notify_if_idle();
    return;
  }
  broadcast_durable(event, payload, nullptr);
  unsent_.api_waiters.emplace_back(std::move(promise), unsent_.broadcasts.size() - 1);
}

void room_actor::on_store_failed(durable_group& group) {
  // Nothing was stored, so nothing is sent: the pushers learn it, nobody else.
  --durable_in_flight_;
  util::counters::bump(settings_.counters->storage_failures, group.broadcasts.size());
  for (auto& [promise, index] : group.api_waiters)
    promise.deliver(caf::make_error(caf::sec::runtime_error,
                                    std::string(protocol::reasons::storage_unavailable)));
  notify_if_idle();
  for (auto& held : group.replies) {
    auto it = members_.find(held.member_id);
    if (it == members_.end()) continue;
    deliver_to(it->second,
               reply_frame(it->second, held.ref,
                           reply::error(protocol::reasons::storage_unavailable)));
  }
}

void room_actor::fetch_history(std::uint64_t since, std::size_t limit, history_handler then) {
  auto handler = std::make_shared<history_handler>(std::move(then));
  request(settings_.store, caf::infinite, store::read_atom::value, topic_, since,
          static_cast<std::uint64_t>(limit), true)
      .then([this, handler](history_page& page) {
              guarded("history", [&] { (*handler)(std::move(page)); });
            },
            [this, handler](caf::error&) { guarded("history", [&] { (*handler)(std::nullopt); }); });
}

std::optional<room_actor::recovery> room_actor::recovery_params(const json::value& params,
                                                                bool& invalid) const {
  const auto* object = params.if_object();
  if (!object) return std::nullopt;
  auto read_count = [&](std::string_view key) -> std::optional<std::uint64_t> {
    const auto* v = object->if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    invalid = true;
    return std::nullopt;
  };
  auto since = read_count("since");
  auto history = read_count("history");
  if (invalid) return std::nullopt;
  recovery wanted;
  if (since) {
    wanted.since = *since;
    wanted.since_mode = true;
  } else if (history) {
    wanted.limit = std::min<std::uint64_t>(*history, settings_.max_replay);
  } else {
    return std::nullopt;
  }
  return wanted;
}

void room_actor::finish_recovery(std::uint64_t member_id, const history_page* page) {
  auto it = members_.find(member_id);
  if (it == members_.end() || !it->second.recovering) return;  // gone meanwhile
  // Frames fanned out but not yet flushed (commits the store answered before
  // this read) go into `deferred` now, where the replay's seqs filter them;
  // flushed after the join they would arrive twice.
  flush_outbound();
  auto& entry = it->second;
  auto wanted = std::move(entry.recovering);
  json::value response = std::move(wanted->response);
  std::vector<net::frame_ptr> replay;
  std::uint64_t upto = 0;
  if (auto* object = response.if_object()) {
    if (page) {
      // Recovered: every message after `since` is in the replay (or there is none).
      bool recovered = wanted->since <= page->last_seq &&
                       (wanted->since == page->last_seq ||
                        (!page->messages.empty() && page->messages.front().seq == wanted->since + 1));
      if (wanted->since_mode) (*object)["recovered"] = recovered;
      (*object)["oldest_seq"] = page->oldest_seq;
      (*object)["last_seq"] = page->last_seq;
    } else {
      if (wanted->since_mode) (*object)["recovered"] = false;
      (*object)["history_error"] = protocol::reasons::storage_unavailable;
    }
  }
  if (page) {
    upto = page->last_seq;
    replay.reserve(page->messages.size());
    // The replay is admitted whole (a budget it fits in): bounded by max_replay,
    // it must not close the socket it was asked for. Later frames meet the
    // usual budget behind it.
    std::size_t bytes = 0;
    for (const auto& m : page->messages) bytes += m.payload.size() + m.event.size() + topic_.size() + 32;
    for (const auto& m : page->messages)
      replay.push_back(durable_frame(m.event, m.payload, m.seq, budget_ + bytes));
  }
  const auto& ref = wanted->ref;
  finish_join(entry, wanted->answer,
                net::make_frame(protocol::encode_reply(entry.info.join_ref(),
                                                       view(ref), topic_,
                                                       "ok", response)),
                std::move(replay), upto);
}

// -- presence -------------------------------------------------------------------------

std::string room_actor::next_phx_ref() {
  return phx_ref_prefix_ + std::to_string(++next_phx_ref_);
}

void room_actor::track(const member& who, std::string key, json::object meta) {
  auto it = members_.find(who.id());
  if (it == members_.end()) return;
  auto& tracked = it->second.presence_key;
  if (tracked && *tracked == key) {
    publish_presence(presence_.update(key, who.id(), std::move(meta), next_phx_ref()));
    return;
  }
  if (tracked) publish_presence(presence_.untrack(*tracked, who.id()));
  tracked = key;
  publish_presence(presence_.track(std::move(key), who.id(), std::move(meta), next_phx_ref()));
}

void room_actor::untrack(const member& who) {
  auto it = members_.find(who.id());
  if (it == members_.end() || !it->second.presence_key) return;
  publish_presence(presence_.untrack(*it->second.presence_key, who.id()));
  it->second.presence_key.reset();
}

void room_actor::publish_presence(presence::change change) {
  if (change.empty()) return;
  pending_diff_.add(std::move(change));
  if (diff_flush_scheduled_) return;
  diff_flush_scheduled_ = true;
  // With no window the flush message queues behind whatever is already in the
  // mailbox: a burst of joins waiting there still becomes one diff.
  if (settings_.presence_window.count() == 0)
    send(this, flush_atom::value, true);
  else
    delayed_send(this, settings_.presence_window, flush_atom::value, true);
}

std::vector<std::uint64_t> room_actor::flush_presence_states() {
  std::vector<std::uint64_t> sent;
  if (awaiting_state_.empty()) return sent;
  flush_outbound();  // presence frames are sent directly: keep them in order
  // A null join_ref, like a broadcast, so one frame serves every waiting joiner.
  auto frame = net::make_frame(protocol::encode_text(std::nullopt, std::nullopt, topic_,
                                                     protocol::events::presence_state,
                                                     presence_.list()));
  for (auto id : awaiting_state_)
    if (members_.count(id)) sent.push_back(id);  // else left meanwhile
  awaiting_state_.clear();
  send_direct(frame, sent);
  std::sort(sent.begin(), sent.end());
  return sent;
}

void room_actor::flush_presence_diff(const std::vector<std::uint64_t>& skip) {
  if (pending_diff_.empty()) return;
  flush_outbound();
  auto frame = net::make_frame(protocol::encode_text(std::nullopt, std::nullopt, topic_,
                                                     protocol::events::presence_diff,
                                                     pending_diff_.take()));
  std::vector<std::uint64_t> ids;
  ids.reserve(members_.size());
  for (auto& [id, entry] : members_)
    if (!entry.joining && !std::binary_search(skip.begin(), skip.end(), id)) ids.push_back(id);
  send_direct(frame, ids);
}

void room_actor::send_direct(const net::frame_ptr& frame, const std::vector<std::uint64_t>& ids) {
  std::optional<cluster::wire_frame> wire;
  for (auto id : ids) {
    auto it = members_.find(id);
    if (it == members_.end()) continue;
    if (!it->second.remote) {
      send(it->second.connection, deliver_atom::value, frame);
      continue;
    }
    auto& out = relay_out(it->second);
    if (out.frames.empty()) {
      if (!wire) wire = cluster::to_wire(*frame);
      out.frames.push_back(*wire);
    }
    out.recipients.push_back(id);
  }
  send_relays();
}

cluster::relay_frames& room_actor::relay_out(const member_entry& entry) {
  auto& slot = relay_out_[entry.connection.address()];
  if (!slot.first) slot.first = entry.connection;
  return slot.second;
}

void room_actor::send_relays() {
  for (auto& [addr, out] : relay_out_) send(out.first, cluster::relay_atom::value, std::move(out.second));
  relay_out_.clear();
}

// -- timers -------------------------------------------------------------------------------

timer_id room_actor::start_timer(std::chrono::milliseconds delay, bool repeat,
                                 std::function<void()> fn) {
  timer_id id = ++next_timer_id_;
  if (delay.count() < 0) delay = std::chrono::milliseconds(0);
  timers_.emplace(id, timer_entry{std::move(fn), delay, repeat,
                                  std::chrono::steady_clock::now() + delay});
  delayed_send(this, delay, timer_atom::value, id);
  return id;
}

bool room_actor::cancel_timer(timer_id id) { return timers_.erase(id) > 0; }

void room_actor::handle_timer(timer_id id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;  // cancelled
  std::function<void()> fn;
  if (it->second.repeat) {
    // Fixed rate: the next tick is due one period after this one was due, so a
    // late tick does not push every later tick back.
    auto& t = it->second;
    t.due += t.period;
    auto now = std::chrono::steady_clock::now();
    auto wait = t.due > now ? std::chrono::duration_cast<std::chrono::milliseconds>(t.due - now)
                            : std::chrono::milliseconds(0);
    delayed_send(this, wait, timer_atom::value, id);
    fn = t.fn;  // the callback may cancel its own timer
  } else {
    fn = std::move(it->second.fn);
    timers_.erase(it);
  }
  guarded("timer", fn);
  // A timer may have ended what kept an empty room (a game's last seat expired).
  notify_if_idle();
}

}  // namespace roomcast::actors
