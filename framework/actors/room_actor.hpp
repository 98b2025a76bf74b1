#pragma once
// One actor per topic. Hosts the topic's channel instance (or, for raw endpoints,
// a plain subscriber list), its members and its timers. Broadcasts are encoded
// once and the same immutable frame is sent to every member's connection actor.
//
// A channel callback that throws crashes the room on purpose: a joiner gets the
// error reply "join crashed" (a pusher gets no reply), every member gets
// phx_error (from its connection actor's monitor) and the directory starts a
// fresh room on the next join.

#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "cluster/relay_messages.hpp"
#include "presence/presence_table.hpp"
#include "roomcast/channel.hpp"
#include "roomcast/durability.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace roomcast::actors {

/// Per-room settings, from the server's options.
struct room_settings {
  std::chrono::milliseconds presence_window{0};
  overflow_policy default_policy = overflow_policy::close;
  std::size_t default_budget = 1 << 20;
  std::size_t max_mailbox = 10'000;
  std::shared_ptr<util::counters> counters = std::make_shared<util::counters>();
  /// Durable topics: the node's store actor, and whether a rule makes this
  /// topic durable (its channel can also declare it).
  caf::actor store;
  bool durable = false;
  std::size_t max_replay = 10'000;
  /// How long a join may wait for channel::complete_join.
  std::chrono::milliseconds join_timeout{5'000};
};

class room_actor : public caf::event_based_actor, private channel_context {
 public:
  /// `handler` is null for a raw topic.
  room_actor(caf::actor_config& cfg, std::string topic, std::unique_ptr<channel> handler,
             caf::actor directory, room_settings settings);

  caf::behavior make_behavior() override;
  /// Drops every actor handle: a room and its directory (and members) refer to
  /// each other, and CAF frees an actor only when no strong handle is left.
  void on_exit() override;
  const char* name() const override { return "roomcast.room"; }

 private:
  /// Where a join's outcome goes: a local connection's request, or a message
  /// to a remote member's relay (in order with the frames that follow it).
  struct join_answer {
    caf::response_promise promise;
    caf::actor relay;
    std::uint64_t request_id = 0;
  };

  /// A join with {"since": N} or {"history": K} on a durable topic, waiting
  /// for the store: its reply is held, live frames are kept in `deferred`.
  struct recovery {
    join_answer answer;
    json::value response;  // on_join's
    std::optional<std::string> ref;
    std::uint64_t since = 0;
    std::uint64_t limit = 0;  // "history": the last `limit` messages
    bool since_mode = false;  // "since" (reports recovered) or "history"
  };

  /// A join on_join answered with join_result::later().
  struct deferred_join;

  struct member_entry {
    member info;
    caf::actor connection;                // or, for a member on another node, its relay
    bool joining = true;                  // reply not sent yet: frames wait
    std::vector<net::frame_ptr> deferred;
    std::optional<std::string> presence_key;  // tracked under this key
    net::gauge_ptr backlog;                   // its socket's unsent bytes
    std::unique_ptr<recovery> recovering;     // set while replaying history
    bool remote = false;                      // on another node, behind `connection` (a relay)
    std::unique_ptr<deferred_join> undecided;  // set while on_join's answer is pending
  };
  struct deferred_join {
    join_answer answer;
    std::optional<std::string> ref;
    std::optional<recovery> wanted;
  };

  /// A durable broadcast waiting to be stored. `body` is the payload's JSON
  /// text without "seq"; `except` a member id (0: nobody).
  struct durable_broadcast {
    std::string event;
    std::string body;
    std::uint64_t except = 0;
  };
  /// A push reply that waits for the commit of the broadcasts its push caused.
  struct held_reply {
    std::uint64_t member_id = 0;
    std::optional<std::string> ref;
    reply answer;
    std::size_t last_broadcast = 0;  // index in the group of its push's last broadcast
  };
  /// What one turn of the room asks the store to commit.
  struct durable_group {
    std::vector<durable_broadcast> broadcasts;
    std::vector<held_reply> replies;
    /// HTTP API broadcasts waiting for the commit: {"seq": N} answers them.
    std::vector<std::pair<caf::typed_response_promise<json::value>, std::size_t>> api_waiters;
  };

  struct timer_entry {
    std::function<void()> fn;
    std::chrono::milliseconds period{0};
    bool repeat = false;
    std::chrono::steady_clock::time_point due;
  };

  // -- message handlers --------------------------------------------------------------
  void handle_join(join_request& req);
  void handle_push(push_request& req);
  void handle_leave(std::uint64_t member_id, const std::optional<std::string>& ref,
                    leave_reason why);
  void handle_down(const caf::down_msg& msg);
  /// Every member behind `connection` (a socket, or a relay) is gone.
  void drop_connection(const caf::actor_addr& connection);
  void handle_remote_push(cluster::remote_push& wire);
  void handle_timer(timer_id id);
  /// A broadcast from the HTTP API: {"members": n} at once, or on a durable
  /// topic {"seq": N} after the commit.
  void handle_api(const std::string& event, const json::value& payload);
  /// Answers a join once on_join accepted it (the reply frame, then what waited).
  /// `first` goes right after the reply (a replay); deferred durable frames
  /// with seq <= replayed_upto are dropped (the replay holds them).
  void answer(join_answer& to, join_outcome outcome);
  void accept_join(std::uint64_t id, join_answer& to, const std::optional<std::string>& ref,
                   const json::value& response, std::optional<recovery> wanted);
  void refuse_join(std::uint64_t id, join_answer& to, const std::optional<std::string>& ref,
                   const json::value& response);
  void finish_join(member_entry& entry, join_answer& answer,
                     const net::frame_ptr& reply, std::vector<net::frame_ptr> first,
                     std::uint64_t replayed_upto);
  net::frame_ptr reply_frame(const member_entry& entry, const std::optional<std::string>& ref,
                             const reply& answer) const;

  // -- durable topics -------------------------------------------------------------------
  broadcast_result broadcast_durable(std::string_view event, const json::value& payload,
                                     const member* except);
  /// Hands this turn's durable broadcasts to the store (one message).
  void send_durable();
  void on_committed(durable_group& group, std::uint64_t first_seq);
  void on_store_failed(durable_group& group);
  /// `budget`: the backlog limit it is sent under; 0: the channel's.
  net::frame_ptr durable_frame(std::string_view event, std::string_view payload,
                               std::uint64_t seq, std::size_t budget = 0) const;
  /// Reads {"since": N} / {"history": K} from join params; nullopt: no recovery.
  /// Sets `invalid` for a present but unusable value.
  std::optional<recovery> recovery_params(const json::value& params, bool& invalid) const;
  void finish_recovery(std::uint64_t member_id, const history_page* page);

  // -- channel_context ------------------------------------------------------------------
  const std::string& topic() const override { return topic_; }
  broadcast_result broadcast(std::string_view event, const json::value& payload,
                             const member* except) override;
  broadcast_result broadcast_binary(std::string_view event, std::string_view bytes,
                                    const member* except) override;
  send_status push(const member& to, std::string_view event, const json::value& payload) override;
  send_status push_binary(const member& to, std::string_view event,
                          std::string_view bytes) override;
  timer_id start_timer(std::chrono::milliseconds delay, bool repeat,
                       std::function<void()> fn) override;
  bool cancel_timer(timer_id id) override;
  std::size_t member_count() const override;
  void for_each_member(const std::function<void(const member&)>& fn) const override;
  void track(const member& who, std::string key, json::object meta) override;
  void untrack(const member& who) override;
  json::object presence_list() const override { return presence_.list(); }
  std::optional<json::object> presence_get(std::string_view key) const override {
    return presence_.get(key);
  }
  void fetch_history(std::uint64_t since, std::size_t limit, history_handler then) override;
  [[nodiscard]] pending_reply current_push() const override;
  void reply_later(const pending_reply& to, reply answer) override;
  bool complete_join(const member& who, join_result result) override;
  [[nodiscard]] room_dispatcher dispatcher() override;

  // -- fan-out ----------------------------------------------------------------------------
  // Frames are collected while the mailbox has work and sent by flush_outbound():
  // one message per member per batch, whatever number of broadcasts it holds.
  void deliver_to(member_entry& entry, const net::frame_ptr& frame);
  /// `except`: a member id that skips the frame (0: nobody).
  broadcast_result fan_out(const net::frame_ptr& frame, std::uint64_t except);
  /// What a frame of `size` bytes (budget 0: the server's) would meet at every member.
  broadcast_result estimate_all(std::size_t size, std::size_t budget, overflow_policy policy,
                                std::uint64_t except) const;
  /// What will become of a frame of `size` bytes at this member's socket, judged by its backlog.
  [[nodiscard]] send_status estimate(const member_entry& entry, std::size_t size,
                                     std::size_t budget, overflow_policy policy) const;
  net::frame_ptr channel_frame(std::string data, bool binary) const;
  /// Sends a channel push to one member; what estimate() expects of it.
  send_status push_frame(member_entry& entry, const net::frame_ptr& frame);
  void schedule_outbound();
  /// The message being built for a remote member's relay this turn.
  cluster::relay_frames& relay_out(const member_entry& entry);
  /// Sends what relay_out() collected: one message per relay.
  void send_relays();
  /// Sends one frame to these members (presence frames, replies sent directly):
  /// locally one message each, to each relay one message for all of its members.
  void send_direct(const net::frame_ptr& frame, const std::vector<std::uint64_t>& ids);
  /// Sends what was collected. Called before anything that must not overtake it
  /// (a join, a leave, presence frames sent directly, the room stopping).
  void flush_outbound();

  // -- helpers ----------------------------------------------------------------------------
  void remove_member(std::uint64_t member_id, leave_reason why);
  void forget_connection_if_unused(const caf::actor_addr& connection);
  /// Runs a channel callback; on an exception logs it, crashes the room and
  /// returns false.
  template <class F>
  bool guarded(const char* what, F&& fn);
  void notify_if_idle();
  /// Queues a presence change for the next presence_diff.
  void publish_presence(presence::change change);
  /// Sends presence_state to every member still waiting for it: one encoding
  /// shared by all of them. Returns their ids.
  std::vector<std::uint64_t> flush_presence_states();
  /// Sends the pending presence_diff to every member except `skip` (they just
  /// got a state that already holds it).
  void flush_presence_diff(const std::vector<std::uint64_t>& skip);
  std::string next_phx_ref();

  std::string topic_;
  std::unique_ptr<channel> handler_;
  caf::actor directory_;
  bool crashed_ = false;
  std::uint64_t joins_seen_ = 0;  // joins and subscriptions processed (see directory)
  std::uint64_t next_member_id_ = 0;
  std::unordered_map<std::uint64_t, member_entry> members_;
  std::unordered_multimap<caf::actor_addr, std::uint64_t> members_by_connection_;
  std::unordered_map<caf::actor_addr, caf::actor> subscribers_;  // raw topics
  timer_id next_timer_id_ = 0;
  std::unordered_map<timer_id, timer_entry> timers_;

  std::shared_ptr<fanout_batch> batch_ = std::make_shared<fanout_batch>();
  std::unordered_map<std::uint64_t, member_frames> member_frames_;  // by member id
  bool outbound_scheduled_ = false;
  std::unordered_map<caf::actor_addr, std::pair<caf::actor, cluster::relay_frames>> relay_out_;

  presence::table presence_;
  presence::diff_accumulator pending_diff_;
  room_settings settings_;
  overflow_policy policy_;  // for the channel's broadcasts and pushes
  std::size_t budget_;      // and their backlog limit
  bool diff_flush_scheduled_ = false;
  bool state_flush_scheduled_ = false;
  std::vector<std::uint64_t> awaiting_state_;  // joined, presence_state not sent yet
  bool durable_ = false;
  durable_group unsent_;        // this turn's durable broadcasts
  std::size_t durable_in_flight_ = 0;  // groups handed to the store, not answered yet
  pending_reply current_push_;  // the push on_event is handling
  std::string phx_ref_prefix_;  // random per room: refs stay unique across restarts
  std::uint64_t next_phx_ref_ = 0;
};

}  // namespace roomcast::actors
