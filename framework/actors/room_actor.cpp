#include "actors/room_actor.hpp"

#include "protocol/codec.hpp"
#include "protocol/errors.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace roomcast::actors {

using protocol::opt_ref;

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
      [this](subscribe_atom, const caf::actor& connection) -> caf::actor {
        ++joins_seen_;
        if (subscribers_.emplace(connection.address(), connection).second) monitor(connection);
        return caf::actor_cast<caf::actor>(this);
      },
      [this](unsub_atom, const caf::actor& connection) {
        if (subscribers_.erase(connection.address()) > 0) demonitor(connection);
        notify_if_idle();
      },
      [this](publish_atom, const net::frame_ptr& frame) { fan_out(frame, nullptr); },
      [this](fanout_atom) {
        outbound_scheduled_ = false;
        flush_outbound();
      },
      [this](timer_atom, timer_id id) { handle_timer(id); },
      [this](flush_atom, bool with_diff) {
        if (with_diff) {
          diff_flush_scheduled_ = false;
          flush_presence_diff(flush_presence_states());
        } else {
          state_flush_scheduled_ = false;
          flush_presence_states();
        }
      },
      [this](presence_atom) -> json::value { return presence_.list(); },
      [this](presence_atom, const std::string& key) -> json::value {
        if (auto found = presence_.get(key)) return std::move(*found);
        return nullptr;
      },
      [this](stop_atom) { quit(); },
  };
}

void room_actor::on_exit() {
  if (!crashed_) flush_outbound();
  members_.clear();
  members_by_connection_.clear();
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
  auto promise = make_response_promise();
  ++joins_seen_;
  opt_ref ref_view = req.ref ? opt_ref(*req.ref) : std::nullopt;
  auto refuse = [&](const json::value& response) {
    promise.deliver(join_outcome{false, 0,
                                 net::make_frame(protocol::encode_reply(
                                     req.join_ref, ref_view, topic_, "error", response)),
                                 caf::actor_cast<caf::actor>(this)});
  };
  if (crashed_ || !handler_) {
    refuse(json::object{{"reason", protocol::reasons::join_crashed}});
    return;
  }
  std::uint64_t id = ++next_member_id_;
  auto [it, inserted] = members_.emplace(
      id, member_entry{member(id, req.join_ref, req.socket), req.connection, true, {}, {},
                       req.backlog});
  join_result result = join_result::refuse(protocol::reasons::join_crashed);
  if (!guarded("on_join", [&] { result = handler_->on_join(req.params, it->second.info); })) {
    refuse(json::object{{"reason", protocol::reasons::join_crashed}});
    return;
  }
  if (!result.accepted()) {
    // Whatever on_join tracked before refusing goes too (join + leave cancel out).
    publish_presence(presence_.untrack_owner(id));
    members_.erase(id);
    refuse(result.response());
    notify_if_idle();
    return;
  }
  // Broadcasts made during on_join go to the members already there, not to the
  // joiner (it is still "joining", so this flush skips it).
  flush_outbound();
  auto& entry = members_.at(id);
  members_by_connection_.emplace(entry.connection.address(), id);
  monitor(entry.connection);
  promise.deliver(join_outcome{
      true, id,
      net::make_frame(protocol::encode_reply(req.join_ref, ref_view, topic_, "ok",
                                             result.response())),
      caf::actor_cast<caf::actor>(this)});
  // Frames produced for the joiner during on_join follow its join reply.
  entry.joining = false;
  for (auto& frame : entry.deferred) send(entry.connection, deliver_atom::value, frame);
  entry.deferred.clear();
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
  if (mailbox().size() > settings_.max_mailbox) {
    // Behind by more than the bound: refuse new work instead of queueing without end.
    util::counters::bump(settings_.counters->overloaded_pushes);
    opt_ref ref = req.ref ? opt_ref(*req.ref) : std::nullopt;
    deliver_to(it->second, net::make_frame(protocol::encode_reply(
                               it->second.info.join_ref(), ref, topic_, "error",
                               json::object{{"reason", protocol::reasons::overloaded}})));
    return;
  }
  reply answer = reply::none();
  const member& from = it->second.info;
  bool ok = guarded("on_event", [&] {
    answer = req.binary ? handler_->on_binary(req.event, *req.binary, from)
                        : handler_->on_event(req.event, req.payload, from);
  });
  if (!ok || answer.what() == reply::kind::none) return;
  it = members_.find(req.member_id);
  if (it == members_.end()) return;
  const auto& join_ref = it->second.info.join_ref();
  opt_ref ref = req.ref ? opt_ref(*req.ref) : std::nullopt;
  std::string_view status = answer.what() == reply::kind::ok ? "ok" : "error";
  auto frame = answer.is_binary()
                   ? net::make_frame(protocol::encode_binary_reply(join_ref, req.ref.value_or(""),
                                                                   topic_, status, answer.bytes()),
                                     true)
                   : net::make_frame(protocol::encode_reply(join_ref, ref, topic_, status,
                                                            answer.response()));
  deliver_to(it->second, frame);  // in order with the broadcasts it caused
}

void room_actor::handle_leave(std::uint64_t member_id, const std::optional<std::string>& ref,
                              leave_reason why) {
  auto it = members_.find(member_id);
  if (it == members_.end()) return;
  flush_outbound();  // what the member was sent before it left still reaches it
  if (ref) {
    // Answered here, so the reply follows every frame the room sent before it.
    send(it->second.connection, deliver_atom::value,
         net::make_frame(protocol::encode_reply(it->second.info.join_ref(), *ref, topic_, "ok",
                                                empty_object)));
  }
  remove_member(member_id, why);
  notify_if_idle();
}

void room_actor::handle_down(const caf::down_msg& msg) {
  subscribers_.erase(msg.source);
  auto [first, last] = members_by_connection_.equal_range(msg.source);
  std::vector<std::uint64_t> ids;
  for (auto it = first; it != last; ++it) ids.push_back(it->second);
  members_by_connection_.erase(msg.source);
  for (auto id : ids) {
    if (crashed_) return;
    auto it = members_.find(id);
    if (it == members_.end()) continue;
    member who = it->second.info;
    members_.erase(it);
    publish_presence(presence_.untrack_owner(id));
    if (handler_) guarded("on_leave", [&] { handler_->on_leave(who, leave_reason::closed); });
  }
  notify_if_idle();
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

broadcast_result room_actor::fan_out(const net::frame_ptr& frame, const member* except) {
  auto& batch = *batch_;
  if (except || !batch.skip.empty()) {
    batch.skip.resize(batch.frames.size(), 0);  // skip stays parallel to frames
    batch.skip.push_back(except ? except->id() : 0);
  }
  batch.frames.push_back(frame);
  schedule_outbound();
  broadcast_result result;
  for (const auto& [id, entry] : members_) {
    if (entry.joining || (except && except->id() == id)) continue;
    switch (estimate(entry, *frame)) {
      case send_status::success: ++result.success; break;
      case send_status::backpressure: ++result.backpressure; break;
      case send_status::dropped: ++result.dropped; break;
    }
  }
  return result;
}

send_status room_actor::estimate(const member_entry& entry,
                                 const net::outbound_frame& frame) const {
  if (!entry.backlog) return send_status::success;
  return net::estimate_send(*entry.backlog, frame.data.size(),
                            frame.budget ? frame.budget : settings_.default_budget, frame.policy);
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
  for (auto& [id, entry] : members_) {
    if (entry.joining) continue;  // not joined yet: gets nothing emitted before
    auto mine = own.find(id);
    if (shared->frames.empty() && mine == own.end()) continue;
    send(entry.connection, batch_atom::value, shared,
         mine == own.end() ? none : std::move(mine->second), id);
  }
  if (!shared->frames.empty())
    for (auto& [addr, connection] : subscribers_)
      send(connection, batch_atom::value, shared, none, std::uint64_t{0});
}

broadcast_result room_actor::broadcast(std::string_view event, const json::value& payload,
                                       const member* except) {
  // Broadcasts carry a null join_ref so that one encoded frame serves everyone.
  return fan_out(channel_frame(protocol::encode_text(std::nullopt, std::nullopt, topic_, event,
                                                     payload),
                               false),
                 except);
}

broadcast_result room_actor::broadcast_binary(std::string_view event, std::string_view bytes,
                                              const member* except) {
  return fan_out(channel_frame(protocol::encode_binary_broadcast(topic_, event, bytes), true),
                 except);
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
  auto status = entry.joining ? send_status::success : estimate(entry, *frame);
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
  for (auto id : awaiting_state_) {
    auto it = members_.find(id);
    if (it == members_.end()) continue;  // left meanwhile
    send(it->second.connection, deliver_atom::value, frame);
    sent.push_back(id);
  }
  awaiting_state_.clear();
  std::sort(sent.begin(), sent.end());
  return sent;
}

void room_actor::flush_presence_diff(const std::vector<std::uint64_t>& skip) {
  if (pending_diff_.empty()) return;
  flush_outbound();
  auto frame = net::make_frame(protocol::encode_text(std::nullopt, std::nullopt, topic_,
                                                     protocol::events::presence_diff,
                                                     pending_diff_.take()));
  for (auto& [id, entry] : members_) {
    if (entry.joining || std::binary_search(skip.begin(), skip.end(), id)) continue;
    send(entry.connection, deliver_atom::value, frame);
  }
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
}

}  // namespace roomcast::actors
