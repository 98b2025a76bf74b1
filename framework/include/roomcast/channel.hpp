#pragma once
// The channel API: one channel instance serves one topic and lives inside that
// topic's room actor, so its state is only ever touched by one thread at a time.
//
//   class chat_room : public roomcast::channel {
//     join_result on_join(const json::value&, const member&) override { return join_result::accept(); }
//     reply on_event(std::string_view event, const json::value& payload, const member& from) override {
//       if (event != "new_msg") return reply::error("unknown event");
//       broadcast("new_msg", payload);
//       return reply::ok();
//     }
//   };
//   server.channel("room:*", [](std::string_view) { return std::make_unique<chat_room>(); });

#include "roomcast/backpressure.hpp"
#include "roomcast/durability.hpp"
#include "roomcast/socket_info.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast {

namespace json = boost::json;

/// One connection's membership in one topic.
class member {
 public:
  member(std::uint64_t id, std::string join_ref, std::shared_ptr<const socket_info> socket)
      : id_(id), join_ref_(std::move(join_ref)), socket_(std::move(socket)) {}

  /// Unique within the room for the room's lifetime.
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] const std::string& join_ref() const noexcept { return join_ref_; }
  [[nodiscard]] const socket_info& socket() const noexcept { return *socket_; }
  [[nodiscard]] const std::string& user_id() const noexcept { return socket_->user_id; }
  [[nodiscard]] const json::object& assigns() const noexcept { return socket_->assigns; }

 private:
  std::uint64_t id_;
  std::string join_ref_;
  std::shared_ptr<const socket_info> socket_;
};

/// What on_join decides: accept (with an optional response) or refuse.
class join_result {
 public:
  static join_result accept(json::value response = json::object()) {
    return join_result(true, std::move(response));
  }
  /// Refuses with {"reason": reason}.
  static join_result refuse(std::string_view reason) {
    return join_result(false, json::object{{"reason", reason}});
  }
  /// Refuses with a custom response object.
  static join_result refuse(json::object response) {
    return join_result(false, std::move(response));
  }
  /// Decided later, by channel::complete_join (after a call to another service).
  /// The joiner waits; past the server's join_timeout it is refused with
  /// "join timeout".
  static join_result later() {
    join_result r(false, nullptr);
    r.deferred_ = true;
    return r;
  }
  [[nodiscard]] bool accepted() const noexcept { return accepted_; }
  [[nodiscard]] bool deferred() const noexcept { return deferred_; }
  [[nodiscard]] const json::value& response() const noexcept { return response_; }

 private:
  join_result(bool accepted, json::value response)
      : accepted_(accepted), response_(std::move(response)) {}
  bool accepted_;
  bool deferred_ = false;
  json::value response_;
};

/// A push to answer later (channel::defer_reply, then channel::reply_later).
struct pending_reply {
  std::uint64_t member_id = 0;
  std::optional<std::string> ref;  ///< the push's ref; none: nobody waits for a reply
};

/// Runs a function inside a room, later, from any thread (channel::dispatcher).
/// Does nothing once the room has stopped.
using room_dispatcher = std::function<void(std::function<void()>)>;

/// What on_event answers to the pusher: ok or error with a response, or nothing.
class reply {
 public:
  enum class kind { ok, error, none };

  static reply ok(json::value response = json::object()) {
    return reply(kind::ok, std::move(response), {}, false);
  }
  /// A binary reply (the client receives a v2 binary reply frame).
  static reply ok_binary(std::string bytes) { return reply(kind::ok, nullptr, std::move(bytes), true); }
  /// Error with {"reason": reason}.
  static reply error(std::string_view reason) {
    return reply(kind::error, json::object{{"reason", reason}}, {}, false);
  }
  static reply error(json::object response) {
    return reply(kind::error, std::move(response), {}, false);
  }
  static reply none() { return reply(kind::none, nullptr, {}, false); }

  [[nodiscard]] kind what() const noexcept { return kind_; }
  [[nodiscard]] const json::value& response() const noexcept { return response_; }
  [[nodiscard]] bool is_binary() const noexcept { return binary_; }
  [[nodiscard]] const std::string& bytes() const noexcept { return bytes_; }

 private:
  reply(kind k, json::value response, std::string bytes, bool binary)
      : kind_(k), response_(std::move(response)), bytes_(std::move(bytes)), binary_(binary) {}
  kind kind_;
  json::value response_;
  std::string bytes_;
  bool binary_;
};

/// Why a member left a topic.
enum class leave_reason {
  left,      ///< the client sent phx_leave
  rejoined,  ///< the client joined the same topic again (the old join is closed)
  closed,    ///< the socket closed (also at server shutdown) or its connection stopped
};

using timer_id = std::uint64_t;

/// The answer to channel::fetch_history: nullopt when storage is unavailable.
using history_handler = std::function<void(std::optional<history_page>)>;

/// What a channel can do; implemented by the room actor that hosts the channel.
class channel_context {
 public:
  virtual ~channel_context() = default;
  [[nodiscard]] virtual const std::string& topic() const = 0;
  virtual broadcast_result broadcast(std::string_view event, const json::value& payload,
                                     const member* except) = 0;
  virtual broadcast_result broadcast_binary(std::string_view event, std::string_view bytes,
                                            const member* except) = 0;
  virtual send_status push(const member& to, std::string_view event,
                           const json::value& payload) = 0;
  virtual send_status push_binary(const member& to, std::string_view event,
                                  std::string_view bytes) = 0;
  virtual timer_id start_timer(std::chrono::milliseconds delay, bool repeat,
                               std::function<void()> fn) = 0;
  virtual bool cancel_timer(timer_id id) = 0;
  [[nodiscard]] virtual std::size_t member_count() const = 0;
  virtual void for_each_member(const std::function<void(const member&)>& fn) const = 0;
  virtual void track(const member& who, std::string key, json::object meta) = 0;
  virtual void untrack(const member& who) = 0;
  [[nodiscard]] virtual json::object presence_list() const = 0;
  [[nodiscard]] virtual std::optional<json::object> presence_get(std::string_view key) const = 0;
  virtual void fetch_history(std::uint64_t since, std::size_t limit, history_handler done) = 0;
  [[nodiscard]] virtual pending_reply current_push() const = 0;
  virtual void reply_later(const pending_reply& to, reply answer) = 0;
  virtual bool complete_join(const member& who, join_result result) = 0;
  [[nodiscard]] virtual room_dispatcher dispatcher() = 0;
};

class channel {
 public:
  virtual ~channel() = default;

  /// A client asks to join. `params` is the phx_join payload.
  virtual join_result on_join(const json::value& params, const member& who) = 0;

  /// A joined member pushed `event` with a JSON payload. Default: "unknown event".
  virtual reply on_event(std::string_view event, const json::value& payload, const member& from);

  /// A joined member pushed `event` with a binary payload. Default: refused.
  virtual reply on_binary(std::string_view event, std::string_view bytes, const member& from);

  /// A member left (phx_leave, socket closed, ...). It no longer receives broadcasts.
  virtual void on_leave(const member& who, leave_reason why);

  /// Keep the room (and this instance) alive while no member is joined. Asked
  /// when the last member leaves and again after every timer callback, so a
  /// channel can keep an empty room for a while (a game's reconnection grace)
  /// and let it stop from a timer.
  [[nodiscard]] virtual bool keep_when_empty() const { return false; }

  /// Durable: every JSON broadcast gets a per-topic sequence number (added to
  /// its payload object as "seq"), is stored, and leaves only once committed; a
  /// push's reply then waits for the commit of the broadcasts it caused and
  /// carries the last one's "seq". Topics matching store_options::durable are
  /// durable whatever this says. See docs/durability.md.
  [[nodiscard]] virtual bool durable() const { return false; }

  /// Presence: when true, every joiner receives "presence_state" (the current
  /// presence list) right after its join reply. Changes are broadcast as
  /// "presence_diff" either way, once something is tracked.
  [[nodiscard]] virtual bool uses_presence() const { return false; }

  /// What happens to this channel's broadcasts and pushes when a member's socket
  /// is over its outbound budget; nullopt: the server's default. Replies are
  /// never dropped (a slow socket is closed instead).
  [[nodiscard]] virtual std::optional<overflow_policy> outbound_policy() const {
    return std::nullopt;
  }
  /// The unsent backlog past which this channel's broadcasts and pushes meet
  /// their policy; nullopt: server_options::outbound_budget_bytes. (A game can
  /// drop stale snapshots early while chat messages may wait longer.)
  [[nodiscard]] virtual std::optional<std::size_t> outbound_budget() const {
    return std::nullopt;
  }

  /// Called by the room actor before any callback; not for application use.
  void bind(channel_context& context) noexcept { context_ = &context; }

 protected:
  [[nodiscard]] const std::string& topic() const { return context_->topic(); }

  /// Sends `event` to every member; the frame is encoded once for all of them.
  /// Reports how many members' sockets took it at once, had a backlog, or will
  /// not get it (see send_status).
  broadcast_result broadcast(std::string_view event, const json::value& payload) {
    return context_->broadcast(event, payload, nullptr);
  }
  /// Sends `event` to every member except `sender`.
  broadcast_result broadcast_from(const member& sender, std::string_view event,
                                  const json::value& payload) {
    return context_->broadcast(event, payload, &sender);
  }
  broadcast_result broadcast_binary(std::string_view event, std::string_view bytes) {
    return context_->broadcast_binary(event, bytes, nullptr);
  }
  /// Sends `event` to one member only.
  send_status push(const member& to, std::string_view event, const json::value& payload) {
    return context_->push(to, event, payload);
  }
  send_status push_binary(const member& to, std::string_view event, std::string_view bytes) {
    return context_->push_binary(to, event, bytes);
  }
  /// Runs `fn` once after `delay` inside the room actor. Cancellable.
  timer_id send_after(std::chrono::milliseconds delay, std::function<void()> fn) {
    return context_->start_timer(delay, false, std::move(fn));
  }
  /// Runs `fn` every `period` (fixed rate, no drift) until cancelled.
  timer_id send_every(std::chrono::milliseconds period, std::function<void()> fn) {
    return context_->start_timer(period, true, std::move(fn));
  }
  bool cancel_timer(timer_id id) { return context_->cancel_timer(id); }
  // -- presence (Phoenix's shape; phoenix.js's Presence class syncs from it) --------

  /// Tracks `who` under `key` (usually a user id) with `meta`; several members
  /// (tabs, devices) can share a key, each with its own meta and phx_ref. Tracking
  /// a tracked member again replaces its meta (the new meta carries phx_ref_prev).
  /// A member is untracked automatically when it leaves, closes or dies.
  void track(const member& who, std::string key, json::object meta = {}) {
    context_->track(who, std::move(key), std::move(meta));
  }
  void untrack(const member& who) { context_->untrack(who); }
  /// {key: {"metas": [...]}} as presence_state carries it.
  [[nodiscard]] json::object presence_list() const { return context_->presence_list(); }
  /// {"metas": [...]} for one key.
  [[nodiscard]] std::optional<json::object> presence_get(std::string_view key) const {
    return context_->presence_get(key);
  }

  /// The latest `limit` stored messages of this topic with seq > since, oldest
  /// first, handed to `done` later inside this room (like a timer callback; not
  /// called if the room stops first). A topic that is not durable has none.
  void fetch_history(std::uint64_t since, std::size_t limit, history_handler done) {
    context_->fetch_history(since, limit, std::move(done));
  }

  [[nodiscard]] std::size_t member_count() const { return context_->member_count(); }
  void for_each_member(const std::function<void(const member&)>& fn) const {
    context_->for_each_member(fn);
  }

  // -- answering later (after a call to another service) ------------------------

  /// Inside on_event / on_binary: the push being handled, to answer with
  /// reply_later once the answer is known (return reply::none() meanwhile).
  [[nodiscard]] pending_reply defer_reply() const { return context_->current_push(); }
  /// Sends the reply of a deferred push (dropped if the member left meanwhile).
  void reply_later(const pending_reply& to, reply answer) {
    context_->reply_later(to, std::move(answer));
  }
  /// Decides a join on_join answered with join_result::later(). False (and
  /// ignored) when the joiner is gone or the join was already decided (it timed out).
  bool complete_join(const member& who, join_result result) {
    return context_->complete_join(who, std::move(result));
  }
  /// A thread-safe handle that runs a function inside this room (like a timer
  /// callback): completion handlers of asynchronous calls come back through it.
  [[nodiscard]] room_dispatcher dispatcher() { return context_->dispatcher(); }

 private:
  channel_context* context_ = nullptr;
};

/// Makes the channel instance for one topic; called once per room.
using channel_factory = std::function<std::unique_ptr<channel>(std::string_view topic)>;

}  // namespace roomcast
