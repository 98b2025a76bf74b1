#include "actors/connection_actor.hpp"

#include "cluster/relay_messages.hpp"

#include "actors/topic_pattern.hpp"
#include "protocol/errors.hpp"
#include "util/log.hpp"

#include <algorithm>

namespace roomcast::actors {

namespace {
/// A join's params for joining again after a move: a replay was for the first
/// join, so "since" and "history" are not asked again.
json::value rejoin_params(const json::value& params) {
  json::value out = params;
  if (auto* object = out.if_object()) {
    object->erase("since");
    object->erase("history");
  }
  return out;
}
}  // namespace

using protocol::opt_ref;
using protocol::view;
namespace events = protocol::events;
namespace reasons = protocol::reasons;

namespace {

/// Pushes buffered while a join is in flight; past this they are refused.
constexpr std::size_t max_waiting_pushes = 64;

const json::value& empty_object() {
  static const json::value value = json::object();
  return value;
}

}  // namespace

// -- raw_socket for raw handlers ----------------------------------------------------------

class connection_actor::raw_adapter : public raw_socket {
 public:
  explicit raw_adapter(connection_actor& self) : self_(self) {}
  send_status send(std::string_view data, bool binary) override {
    auto status = send_status::dropped;
    if (self_.sink_ && !self_.socket_closed_)
      status = net::estimate_send(*self_.sink_->backlog(), data.size(),
                                  self_.runtime_->options.outbound_budget_bytes,
                                  overflow_policy::close);
    self_.write(std::string(data), binary);
    return status;
  }
  void subscribe(std::string_view topic) override { self_.raw_subscribe(topic); }
  void unsubscribe(std::string_view topic) override { self_.raw_unsubscribe(topic); }
  void publish(std::string_view topic, std::string_view data, bool binary) override {
    self_.raw_publish(topic, data, binary);
  }
  void close(std::uint16_t code, std::string_view reason) override {
    self_.close_socket(code, std::string(reason));
  }
  const socket_info& info() const override { return *self_.socket_; }

 private:
  connection_actor& self_;
};

// -- lifecycle ------------------------------------------------------------------------------

connection_actor::connection_actor(caf::actor_config& cfg, std::shared_ptr<net::ws_sink> sink,
                                   socket_ptr socket, caf::actor directory,
                                   std::shared_ptr<const runtime> rt,
                                   std::unique_ptr<raw_handler> raw)
    : caf::event_based_actor(cfg),
      sink_(std::move(sink)),
      socket_(std::move(socket)),
      directory_(std::move(directory)),
      runtime_(std::move(rt)),
      raw_(std::move(raw)),
      last_activity_(std::chrono::steady_clock::now()),
      push_rate_(runtime_->options.max_pushes_per_second,
                 runtime_->options.push_burst > 0 ? runtime_->options.push_burst
                                                  : runtime_->options.max_pushes_per_second),
      // The byte bucket banks at least one largest allowed push, so that one can pass.
      push_bytes_(runtime_->options.max_push_bytes_per_second,
                  std::max(runtime_->options.max_push_bytes_per_second,
                           static_cast<double>(runtime_->options.max_event_payload_bytes))) {
  limits_.max_json_depth = runtime_->options.max_json_depth;
  auto timeout = runtime_->options.heartbeat_timeout;
  heartbeat_check_interval_ = std::clamp(timeout / 4, std::chrono::milliseconds(10),
                                         std::chrono::milliseconds(5'000));
  if (raw_) raw_socket_ = std::make_unique<raw_adapter>(*this);
}

caf::behavior connection_actor::make_behavior() {
  set_down_handler([this](caf::down_msg& msg) { handle_room_down(msg); });
  if (runtime_->options.heartbeat_timeout.count() > 0)
    delayed_send(this, heartbeat_check_interval_, tick_atom::value);
  if (raw_) guarded_raw([this] { raw_->on_open(*raw_socket_); });
  // The token's lifetime is the socket's: phoenix.js reconnects and re-reads
  // its params (or authToken), so a client with a fresh token carries on.
  if (socket_->token_expires_at) arm_token_expiry();
  return {
      [this](inbound_atom, std::string& data, bool binary) {
        last_activity_ = std::chrono::steady_clock::now();
        if (raw_)
          handle_raw_frame(data, binary);
        else
          handle_frame(data, binary);
        if (sink_) sink_->ack(1);  // credit for the session's next read
      },
      [this](dropped_atom, std::uint64_t count) {
        write(protocol::encode_text(std::nullopt, std::nullopt, protocol::phoenix_topic,
                                    protocol::events::frames_dropped,
                                    json::object{{"count", count}}));
      },
      [this](deliver_atom, const net::frame_ptr& frame) {
        if (sink_ && !socket_closed_) sink_->send(frame);
      },
      [this](batch_atom, const batch_ptr& batch, const member_frames& own,
             std::uint64_t member_id) { deliver_batch(*batch, own, member_id); },
      [this](closed_atom, std::uint16_t) {
        socket_closed_ = true;
        if (raw_) guarded_raw([this] { raw_->on_close(*raw_socket_); });
        quit();  // rooms see our exit through their monitors
      },
      [this](tick_atom) { check_heartbeat(); },
      // POST /api/disconnect: the server closes this user's sockets.
      [this](disconnect_atom) { close_socket(protocol::close_codes::normal, "disconnected by server"); },
      [this](expired_atom) { arm_token_expiry(); },
      [this](join_timeout_atom, const std::string& topic, const std::string& join_ref,
             std::uint64_t attempt) { on_join_failed(topic, join_ref, attempt, reasons::join_timeout); },
      [this](rejoin_atom, const std::string& topic, const std::string& join_ref) {
        auto it = channels_.find(topic);
        if (it == channels_.end() || it->second.join_ref != join_ref || !it->second.rejoining ||
            it->second.joined)
          return;
        request_join(topic, it->second, it->second.params);
      },
  };
}

void connection_actor::on_exit() {
  if (sink_) {
    if (!socket_closed_)
      sink_->close(protocol::close_codes::going_away, "server shutting down");
    sink_.reset();  // releases the session (which held us through its receiver)
  }
  raw_socket_.reset();
  raw_.reset();
  channels_.clear();
  raw_topics_.clear();
  directory_ = nullptr;
}

// -- socket -------------------------------------------------------------------------------

void connection_actor::deliver_batch(const fanout_batch& batch, const member_frames& own,
                                     std::uint64_t member_id) {
  if (!sink_ || socket_closed_) return;
  if (batch.started != std::chrono::steady_clock::time_point{})
    runtime_->counters->fanout_latency.observe(std::chrono::steady_clock::now() - batch.started);
  bool skips_me = false;
  for (auto id : batch.skip) skips_me |= (id == member_id);
  if (own.empty() && !skips_me) {
    sink_->send_many(batch.frames);  // the common case: no copy at all
    return;
  }
  // Merge this member's own frames into the shared ones, in emission order.
  std::vector<net::frame_ptr> merged;
  merged.reserve(batch.frames.size() + own.size());
  auto next_own = own.begin();
  for (std::size_t i = 0; i <= batch.frames.size(); ++i) {
    for (; next_own != own.end() && next_own->first == i; ++next_own)
      merged.push_back(next_own->second);
    if (i == batch.frames.size()) break;
    if (!batch.skip.empty() && batch.skip[i] == member_id) continue;
    merged.push_back(batch.frames[i]);
  }
  sink_->send_many(merged);
}

void connection_actor::arm_token_expiry() {
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  auto left_ms = (*socket_->token_expires_at - now / 1000) * 1000 - now % 1000;  // no overflow
  if (left_ms <= 0) {
    close_socket(protocol::close_codes::policy_violation, "token expired");
    return;
  }
  // A far "exp" is waited for a day at a time (and checked again then).
  delayed_send(this, milliseconds(std::min<std::int64_t>(left_ms, 24LL * 3600 * 1000)),
               expired_atom::value);
}

void connection_actor::write(std::string frame, bool binary) {
  if (sink_ && !socket_closed_) sink_->send(net::make_frame(std::move(frame), binary));
}

void connection_actor::close_socket(std::uint16_t code, std::string reason) {
  if (sink_ && !socket_closed_) {
    sink_->close(code, std::move(reason));
    socket_closed_ = true;
  }
  quit();
}

void connection_actor::check_heartbeat() {
  auto silent = std::chrono::steady_clock::now() - last_activity_;
  if (silent >= runtime_->options.heartbeat_timeout) {
    log::debug("connection", "heartbeat timeout", {{"socket", socket_->id}});
    close_socket(protocol::close_codes::normal, "heartbeat timeout");
    return;
  }
  delayed_send(this, heartbeat_check_interval_, tick_atom::value);
}

// -- Phoenix protocol -----------------------------------------------------------------------

void connection_actor::reply_error(const std::optional<std::string>& join_ref,
                                   const std::optional<std::string>& ref, std::string_view topic,
                                   std::string_view reason) {
  write(protocol::encode_reply(view(join_ref), view(ref),
                               topic.empty() ? protocol::phoenix_topic : topic, "error",
                               json::object{{"reason", reason}}));
}

void connection_actor::handle_frame(std::string& data, bool binary) {
  auto decoded = binary ? protocol::decode_client_binary(data)
                        : protocol::decode_text(data, limits_);
  if (auto* failure = std::get_if<protocol::decode_failure>(&decoded)) {
    reply_error(failure->join_ref, failure->ref, failure->topic, failure->reason);
    return;
  }
  auto& msg = std::get<message>(decoded);
  if (msg.topic == protocol::phoenix_topic) {
    if (msg.event == events::heartbeat)
      write(protocol::encode_reply(view(msg.join_ref), view(msg.ref), msg.topic, "ok",
                                   empty_object()));
    else
      reply_error(msg.join_ref, msg.ref, msg.topic, reasons::unknown_event);
    return;
  }
  if (msg.event == events::join)
    handle_join(msg);
  else if (msg.event == events::leave)
    handle_leave(msg);
  else
    handle_push(msg, data.size());
}

bool connection_actor::admit_push(const message& msg, std::size_t frame_bytes) {
  const auto& opts = runtime_->options;
  auto& counters = *runtime_->counters;
  if (frame_bytes > opts.max_event_payload_bytes) {
    util::counters::bump(counters.oversized_payloads);
    reply_error(msg.join_ref, msg.ref, msg.topic, reasons::payload_too_large);
    return false;
  }
  auto queued = mailbox().size();
  util::counters::raise(counters.connection_mailbox_high_water, queued);
  if (queued > opts.max_connection_mailbox) {
    util::counters::bump(counters.overloaded_pushes);
    reply_error(msg.join_ref, msg.ref, msg.topic, reasons::overloaded);
    return false;
  }
  auto now = std::chrono::steady_clock::now();
  auto bytes = static_cast<double>(frame_bytes);
  if (push_rate_.can_take(1, now) && push_bytes_.can_take(bytes, now)) {
    push_rate_.take(1, now);  // both or neither
    push_bytes_.take(bytes, now);
    return true;
  }
  util::counters::bump(counters.rate_limited_pushes);
  reply_error(msg.join_ref, msg.ref, msg.topic, reasons::rate_limited);
  // Sustained abuse: too many refusals within 10 s closes the socket.
  if (opts.rate_limit_strikes == 0) return false;  // refusals never close
  // At most rate_limit_strikes entries: the socket closes when they are reached.
  std::erase_if(strikes_, [&](auto t) { return now - t > std::chrono::seconds(10); });
  strikes_.push_back(now);
  if (strikes_.size() >= opts.rate_limit_strikes) {
    util::counters::bump(counters.rate_limit_closes);
    // Many abusive sockets must not flood the log: one line per second at most.
    static log::rate_limiter limiter;
    log::limited(limiter, log::level::warn, "connection",
                 "closing a socket that keeps exceeding its rate limit", {{"socket", socket_->id}});
    close_socket(protocol::close_codes::policy_violation, "rate limit exceeded");
  }
  return false;
}

void connection_actor::handle_join(message& msg) {
  const auto& opts = runtime_->options;
  if (!valid_topic(msg.topic, opts.max_topic_length))
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::invalid_topic);
  if (!runtime_->find_channel(msg.topic))
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::unmatched_topic);
  if (msg.is_binary())
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::invalid_message);
  if (!auth::join_allowed(runtime_->topic_rules, msg.topic, socket_->assigns))
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::unauthorized);

  if (auto it = channels_.find(msg.topic); it != channels_.end()) {
    // Joining a joined topic again: close the old join, as Phoenix does.
    auto& old = it->second;
    if (old.joined) {
      send(old.room, leave_atom::value, old.member_id, std::optional<std::string>{},
           leave_reason::rejoined);
      demonitor(old.room);
    }
    write(protocol::encode_text(old.join_ref, old.join_ref, msg.topic, events::close,
                                empty_object()));
    for (auto& m : old.waiting) reply_error(m.join_ref, m.ref, msg.topic, reasons::unmatched_topic);
    channels_.erase(it);
  }
  if (channels_.size() >= opts.max_topics_per_connection)
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::too_many_channels);

  // phoenix.js sends join_ref == ref for joins; accept either one alone too.
  std::string join_ref = msg.join_ref.value_or(msg.ref.value_or(""));
  channel_slot slot;
  slot.join_ref = join_ref;
  slot.join_msg_ref = msg.ref;
  // Only a cluster moves topics (and rejoins with these): no copy per join otherwise.
  if (runtime_->options.cluster.enabled()) slot.params = rejoin_params(msg.payload);
  auto& placed = channels_.emplace(msg.topic, std::move(slot)).first->second;
  request_join(msg.topic, placed, std::move(msg.payload));
}

void connection_actor::request_join(const std::string& topic, channel_slot& slot,
                                    json::value params) {
  join_request req{topic,   slot.join_ref, slot.join_msg_ref, std::move(params), socket_,
                   caf::actor_cast<caf::actor>(this), sink_ ? sink_->backlog() : nullptr};
  // No CAF request timeout: a late answer must still arrive so that a join the
  // room accepted after we gave up is undone (see on_join_outcome).
  auto attempt = ++slot.attempt;
  request(directory_, caf::infinite, join_atom::value, std::move(req))
      .then(
          [this, topic, join_ref = slot.join_ref, attempt](join_outcome& outcome) {
            on_join_outcome(topic, join_ref, attempt, outcome);
          },
          [this, topic, join_ref = slot.join_ref, attempt](caf::error&) {
            on_join_failed(topic, join_ref, attempt, reasons::join_crashed);
          });
  delayed_send(this, runtime_->options.join_timeout, join_timeout_atom::value, topic, slot.join_ref,
               attempt);
}

void connection_actor::on_join_outcome(const std::string& topic, const std::string& join_ref,
                                       std::uint64_t attempt, join_outcome& outcome) {
  auto it = channels_.find(topic);
  bool current = it != channels_.end() && it->second.join_ref == join_ref && !it->second.joined;
  if (!current) {
    // The client left, joined again, or the join timed out meanwhile: undo it.
    if (outcome.accepted) {
      auto why = it != channels_.end() ? leave_reason::rejoined : leave_reason::left;
      send(outcome.room, leave_atom::value, outcome.member_id, std::optional<std::string>{}, why);
    }
    return;
  }
  auto& slot = it->second;
  if (slot.rejoining && !outcome.accepted) {
    if (attempt != slot.attempt) return;  // an older attempt: a newer one is on its way
    return retry_rejoin(topic, outcome.reply ? std::string_view(outcome.reply->data) : "refused");
  }
  if (outcome.reply && !slot.rejoining) sink_->send(outcome.reply);
  if (!outcome.accepted) return drop_pending_join(topic, reasons::unmatched_topic);
  slot.rejoining = false;
  slot.joined = true;
  slot.room = outcome.room;
  slot.member_id = outcome.member_id;
  monitor(slot.room);
  auto waiting = std::move(slot.waiting);
  for (auto& m : waiting) forward_push(slot, m);
}

void connection_actor::on_join_failed(const std::string& topic, const std::string& join_ref,
                                      std::uint64_t attempt, std::string_view reason) {
  auto it = channels_.find(topic);
  if (it == channels_.end() || it->second.join_ref != join_ref || it->second.joined ||
      attempt != it->second.attempt)
    return;
  if (it->second.rejoining) return retry_rejoin(topic, reason);
  reply_error(join_ref, it->second.join_msg_ref, topic, reason);
  drop_pending_join(topic, reasons::unmatched_topic);
}

void connection_actor::retry_rejoin(const std::string& topic, std::string_view why) {
  constexpr int max_attempts = 40;  // about 10 s: the nodes' views settle within that, even loaded
  auto it = channels_.find(topic);
  if (it == channels_.end() || !it->second.rejoining) return;
  auto& slot = it->second;
  if (++slot.rejoin_attempts < max_attempts) {
    // 200-300 ms, spread per socket so that the members of a moved topic do
    // not all ask at the same moment.
    auto spread = (std::hash<std::string>{}(socket_->id) +
                   37 * static_cast<std::size_t>(slot.rejoin_attempts)) % 100;
    delayed_send(this, std::chrono::milliseconds(200 + static_cast<long>(spread)), rejoin_atom::value,
                 topic, slot.join_ref);
    return;
  }
  // The client hears of it as a crash and joins by itself (phoenix.js does).
  log::warn("connection", "joining a moved topic again failed",
            {{"topic", topic}, {"why", std::string(why)}});
  write(protocol::encode_text(slot.join_ref, slot.join_ref, topic, events::error, empty_object()));
  drop_pending_join(topic, reasons::unmatched_topic);
}

void connection_actor::drop_pending_join(const std::string& topic, std::string_view reason) {
  auto it = channels_.find(topic);
  if (it == channels_.end()) return;
  auto waiting = std::move(it->second.waiting);
  channels_.erase(it);
  for (auto& m : waiting) reply_error(m.join_ref, m.ref, topic, reason);
}

void connection_actor::handle_leave(message& msg) {
  auto it = channels_.find(msg.topic);
  if (it == channels_.end() || !it->second.joined) {
    // Not joined (or not yet): nothing to leave. Phoenix answers ok too, and
    // phoenix.js waits for that ok to finish leave().
    if (it != channels_.end()) drop_pending_join(msg.topic, reasons::unmatched_topic);
    write(protocol::encode_reply(view(msg.join_ref), view(msg.ref), msg.topic, "ok",
                                 empty_object()));
    return;
  }
  auto& slot = it->second;
  // The room answers the leave (after on_leave) so the reply follows every
  // frame the room sent before it.
  send(slot.room, leave_atom::value, slot.member_id, msg.ref, leave_reason::left);
  demonitor(slot.room);
  channels_.erase(it);
}

void connection_actor::handle_push(message& msg, std::size_t frame_bytes) {
  auto it = channels_.find(msg.topic);
  if (it == channels_.end())
    return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::unmatched_topic);
  if (!admit_push(msg, frame_bytes)) return;
  auto& slot = it->second;
  if (!slot.joined) {
    if (slot.waiting.size() >= max_waiting_pushes)
      return reply_error(msg.join_ref, msg.ref, msg.topic, reasons::unmatched_topic);
    slot.waiting.push_back(std::move(msg));
    return;
  }
  forward_push(slot, msg);
}

void connection_actor::forward_push(const channel_slot& slot, message& msg) {
  send(slot.room, push_atom::value,
       push_request{slot.member_id, std::move(msg.ref), std::move(msg.event),
                    std::move(msg.payload), std::move(msg.binary)});
}

void connection_actor::handle_room_down(const caf::down_msg& msg) {
  // A room we joined stopped. If it crashed, the client gets phx_error for that
  // topic (and phoenix.js rejoins); the directory starts a fresh room then.
  bool crashed = msg.reason != caf::exit_reason::normal;
  bool moved = msg.reason == cluster::moved_reason();
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (moved && it->second.joined && it->second.room.address() == msg.source) {
      // The topic moved to another node: join its new room without telling the
      // client. A replay was for the first join, so it is not asked again.
      auto& slot = it->second;
      slot.joined = false;
      slot.rejoining = true;
      slot.room = nullptr;
      slot.rejoin_attempts = 0;
      request_join(it->first, slot, slot.params);
      ++it;
      continue;
    }
    if (it->second.joined && it->second.room.address() == msg.source) {
      const auto& jr = it->second.join_ref;
      write(protocol::encode_text(jr, jr, it->first, crashed ? events::error : events::close,
                                  empty_object()));
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
}

// -- raw endpoints --------------------------------------------------------------------------

template <class F>
void connection_actor::guarded_raw(F&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    log::error("connection", "raw handler threw; closing socket",
               {{"socket", socket_->id}, {"error", e.what()}});
    close_socket(protocol::close_codes::internal_error, "internal error");
  } catch (...) {
    log::error("connection", "raw handler threw; closing socket", {{"socket", socket_->id}});
    close_socket(protocol::close_codes::internal_error, "internal error");
  }
}

void connection_actor::handle_raw_frame(std::string& data, bool binary) {
  guarded_raw([&] { raw_->on_message(*raw_socket_, data, binary); });
}

void connection_actor::raw_subscribe(std::string_view topic) {
  std::string name(topic);
  if (raw_topics_.count(name)) return;
  raw_topics_.emplace(name, nullptr);  // publishes go through the directory until known
  request(directory_, caf::infinite, subscribe_atom::value, name,
          caf::actor_cast<caf::actor>(this))
      .then(
          [this, name](caf::actor& room) {
            if (auto it = raw_topics_.find(name); it != raw_topics_.end())
              it->second = room;
            else
              send(room, unsub_atom::value, caf::actor_cast<caf::actor>(this));
          },
          [](caf::error&) {});  // only at shutdown: nothing left to subscribe to
}

void connection_actor::raw_unsubscribe(std::string_view topic) {
  auto it = raw_topics_.find(std::string(topic));
  if (it == raw_topics_.end()) return;
  if (it->second) send(it->second, unsub_atom::value, caf::actor_cast<caf::actor>(this));
  raw_topics_.erase(it);
}

void connection_actor::raw_publish(std::string_view topic, std::string_view data, bool binary) {
  auto frame = net::make_frame(std::string(data), binary);
  std::string name(topic);
  if (auto it = raw_topics_.find(name); it != raw_topics_.end() && it->second)
    send(it->second, publish_atom::value, std::move(frame));
  else
    send(directory_, publish_atom::value, std::move(name), std::move(frame));
}

}  // namespace roomcast::actors
