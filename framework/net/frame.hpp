#pragma once
// The seam between sockets and actors. Actors see a socket as a ws_sink (send
// frames, close); a socket sees its actor as a ws_receiver (frames in, closed).
// Neither side depends on Beast or CAF here.

#include "roomcast/backpressure.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace roomcast::net {

/// One outbound WebSocket message; immutable so one encode serves every receiver.
struct outbound_frame {
  std::string data;
  bool binary = false;
  overflow_policy policy = overflow_policy::close;  ///< when the socket is over budget
  std::size_t budget = 0;  ///< backlog limit for this frame; 0: the socket's default
  std::uint64_t seq = 0;   ///< a durable topic's sequence number; 0: not durable
};

using frame_ptr = std::shared_ptr<const outbound_frame>;

inline frame_ptr make_frame(std::string data, bool binary = false,
                            overflow_policy policy = overflow_policy::close,
                            std::size_t budget = 0) {
  return std::make_shared<const outbound_frame>(
      outbound_frame{std::move(data), binary, policy, budget});
}

/// A socket's unsent bytes, published by its session for the rooms that send to
/// it (read without locks; an estimate by nature).
struct backlog_gauge {
  std::atomic<std::size_t> bytes{0};
  std::atomic<bool> closing{false};  ///< being closed: nothing more will be written
};
using gauge_ptr = std::shared_ptr<const backlog_gauge>;

/// What will become of a frame of `size` bytes at a socket with this backlog:
/// success (nothing waits), backpressure (it waits behind unsent bytes), dropped
/// (over `budget`: dropped by its policy, or the socket is closed for it).
inline send_status estimate_send(const backlog_gauge& gauge, std::size_t size,
                                 std::size_t budget, overflow_policy policy) {
  if (gauge.closing.load(std::memory_order_relaxed)) return send_status::dropped;
  auto queued = gauge.bytes.load(std::memory_order_relaxed);
  if (queued == 0) return send_status::success;
  if (queued + size <= budget || policy == overflow_policy::drop_oldest)
    return send_status::backpressure;  // waits (drop_oldest: older frames make way)
  return send_status::dropped;
}

/// The socket, as its connection actor sees it. All methods are thread-safe.
class ws_sink {
 public:
  virtual ~ws_sink() = default;
  /// Queues a frame; frames leave in the order they were queued.
  virtual void send(frame_ptr frame) = 0;
  /// Queues several frames at once (one lock, one hand-over to the socket's strand).
  virtual void send_many(std::span<const frame_ptr> frames) = 0;
  /// Sends a close frame after the queued frames, then closes the socket.
  virtual void close(std::uint16_t code, std::string reason) = 0;
  /// Drops the TCP connection at once, without a closing handshake.
  virtual void abort() = 0;
  /// The session's published backlog.
  [[nodiscard]] virtual gauge_ptr backlog() const = 0;
  /// The receiver finished `n` inbound frames: the session may read that many more
  /// (it reads only while fewer than its read window are unfinished).
  virtual void ack(std::size_t n) = 0;
  /// Called by the server's idle sweep: a session with no traffic since the
  /// previous call may set its stream state aside until the next read or write.
  virtual void sweep_idle() {}
};

/// The connection actor, as its socket sees it. Called on the socket's strand.
class ws_receiver {
 public:
  virtual ~ws_receiver() = default;
  virtual void on_frame(std::string data, bool binary) = 0;
  /// The socket is gone; `code` is the peer's close code, or 1006 when none came.
  virtual void on_closed(std::uint16_t code) = 0;
  /// `count` frames were dropped by their overflow policy and the backlog has
  /// drained since: the client can be told once.
  virtual void on_dropped(std::uint64_t count) = 0;
};

}  // namespace roomcast::net
