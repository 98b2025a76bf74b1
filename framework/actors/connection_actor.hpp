#pragma once
// One actor per WebSocket. Owns the socket's logical state: its joined channels
// (topic -> join_ref, room, member id), pushes waiting for a join to finish, the
// heartbeat deadline, and for raw endpoints the application's raw handler.
// Inbound frames arrive from the session; outbound frames (replies, broadcasts)
// arrive from rooms and leave through the socket's ws_sink.

#include "actors/messages.hpp"
#include "actors/runtime.hpp"
#include "net/frame.hpp"
#include "protocol/codec.hpp"
#include "roomcast/raw.hpp"
#include "util/token_bucket.hpp"


#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace roomcast::actors {

class connection_actor : public caf::event_based_actor {
 public:
  /// `raw` is null for a Phoenix socket.
  connection_actor(caf::actor_config& cfg, std::shared_ptr<net::ws_sink> sink,
                   socket_ptr socket, caf::actor directory, std::shared_ptr<const runtime> rt,
                   std::unique_ptr<raw_handler> raw);

  caf::behavior make_behavior() override;
  /// Closes the socket (1008) once its token's validity ends; re-arms until then.
  void arm_token_expiry();
  void on_exit() override;
  const char* name() const override { return "roomcast.connection"; }

 private:
  struct channel_slot {
    std::string join_ref;
    std::optional<std::string> join_msg_ref;  // ref of the phx_join, for its reply
    bool joined = false;
    caf::actor room;
    std::uint64_t member_id = 0;
    std::vector<message> waiting;  // pushes sent before the join finished
    json::value params;            // the join's minus since/history: to join again after a move
    bool rejoining = false;        // joined again after a move: the client is not told
    int rejoin_attempts = 0;
    std::uint64_t attempt = 0;     // of request_join: answers to older ones are stale
  };

  // -- Phoenix protocol ------------------------------------------------------------------
  void handle_frame(std::string& data, bool binary);
  void handle_join(message& msg);
  void handle_leave(message& msg);
  void handle_push(message& msg, std::size_t frame_bytes);
  /// Rate limits, payload size and mailbox bound; false (answered) when refused.
  bool admit_push(const message& msg, std::size_t frame_bytes);
  void on_join_outcome(const std::string& topic, const std::string& join_ref,
                       std::uint64_t attempt, join_outcome& outcome);
  void on_join_failed(const std::string& topic, const std::string& join_ref,
                      std::uint64_t attempt, std::string_view reason);
  /// Forgets a pending join and answers its waiting pushes.
  void drop_pending_join(const std::string& topic, std::string_view reason);
  void forward_push(const channel_slot& slot, message& msg);
  void reply_error(const std::optional<std::string>& join_ref,
                   const std::optional<std::string>& ref, std::string_view topic,
                   std::string_view reason);
  void handle_room_down(const caf::down_msg& msg);
  /// Sends the slot's join to the directory (again after a move, when the slot is rejoining).
  void request_join(const std::string& topic, channel_slot& slot, json::value params);
  /// A silent join after a move failed: tries again shortly (the nodes' views
  /// of the membership may still disagree), or tells the client with phx_error.
  void retry_rejoin(const std::string& topic, std::string_view why);

  // -- raw endpoints -------------------------------------------------------------------------
  class raw_adapter;  // the raw_socket the application's raw handler sees
  friend class raw_adapter;
  void handle_raw_frame(std::string& data, bool binary);
  void raw_subscribe(std::string_view topic);
  void raw_unsubscribe(std::string_view topic);
  void raw_publish(std::string_view topic, std::string_view data, bool binary);
  template <class F>
  void guarded_raw(F&& fn);

  // -- socket ------------------------------------------------------------------------------
  void deliver_batch(const fanout_batch& batch, const member_frames& own, std::uint64_t member_id);
  void write(std::string frame, bool binary = false);
  void close_socket(std::uint16_t code, std::string reason);
  void check_heartbeat();

  std::shared_ptr<net::ws_sink> sink_;
  socket_ptr socket_;
  caf::actor directory_;
  std::shared_ptr<const runtime> runtime_;
  std::unique_ptr<raw_handler> raw_;
  std::unique_ptr<raw_socket> raw_socket_;
  protocol::decode_limits limits_;
  bool socket_closed_ = false;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::milliseconds heartbeat_check_interval_;
  // A map, not a hash table: a socket joins a few topics, and an unordered_map's
  // bucket array alone (104 bytes) would be paid by every idle connection.
  std::map<std::string, channel_slot, std::less<>> channels_;
  std::unordered_map<std::string, caf::actor> raw_topics_;  // subscribed raw topics
  util::token_bucket push_rate_;
  util::token_bucket push_bytes_;
  // Recent "rate_limited" refusals. A vector: an empty std::deque still costs
  // about 600 bytes, and every idle connection has one of these.
  std::vector<std::chrono::steady_clock::time_point> strikes_;
};

}  // namespace roomcast::actors
