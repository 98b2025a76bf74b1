#pragma once
// A stream layer under websocket::stream that coalesces writes: Beast keeps
// framing every message (control frames included), but its writes only append
// to a buffer, and one real socket write is in flight at a time. Everything
// appended meanwhile leaves in the next single write system call, so a burst of
// small frames to one socket costs one syscall, not one per frame.
//
// Bounded: past `high_water` buffered bytes a write does not complete until the
// socket drains, so a peer that stops reading backs up into the session's queue
// instead of growing this buffer.
//
// Reads pass straight through, watched by a frame_boundary_tracker: the session
// learns when Beast holds no unread bytes, so an idle socket can wait for
// readability instead of keeping a read (and its buffer) parked in Beast.

#include "net/frame_boundary.hpp"

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <boost/assert.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace roomcast::net {

/// Beast's read handler, run after the tracker has seen the bytes the read brought.
/// Every association (executor, allocator, cancellation slot) is Beast's handler's:
/// see the asio::associator specialization at the end of this file.
template <class Handler, class MutableBufferSequence>
struct tracked_read {
  Handler handler;
  MutableBufferSequence buffers;  // views Beast's buffer, valid until the handler runs
  frame_boundary_tracker* tracker;

  void operator()(boost::beast::error_code ec, std::size_t n) {
    std::size_t left = n;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         left > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer part = *it;
      auto take = part.size() < left ? part.size() : left;
      tracker->feed(static_cast<const unsigned char*>(part.data()), take);
      left -= take;
    }
    std::move(handler)(ec, n);
  }
};

/// `NextLayer` may be a reference (the socket then outlives the layer, so a
/// session can drop its WebSocket state while the socket waits). `TrackReads`:
/// watch the frame boundaries of reads; only a session that waits for
/// readability between messages asks (TLS sessions never do).
template <class NextLayer, bool TrackReads = true>
class coalescing_stream {
 public:
  using next_layer_type = std::remove_reference_t<NextLayer>;
  using executor_type = typename next_layer_type::executor_type;

  static constexpr std::size_t high_water = 64 * 1024;

  template <class... Args>
  explicit coalescing_stream(Args&&... args) : next_(std::forward<Args>(args)...) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  /// The object whose lifetime pending writes extend (the session).
  void set_owner(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
  /// Runs `fn` (on the strand) whenever the buffer has fully drained to the socket,
  /// while the owner is alive.
  void on_drained(std::function<void()> fn) { on_drained_ = std::move(fn); }

  /// Bytes accepted from Beast and not yet written to the socket.
  [[nodiscard]] std::size_t buffered_bytes() const noexcept {
    return pending_.size() + inflight_.size();
  }

  /// Nothing buffered, written or waited for, and no write failed.
  [[nodiscard]] bool idle() const noexcept {
    return !writing_ && pending_.empty() && !write_waiter_ && !drained_ && !error_;
  }

  /// While on, writes complete without reaching the socket. Reopening a parked
  /// connection replays an upgrade through a fresh websocket::stream (Beast has
  /// no other way into the open state); its 101 answer must not go out again.
  void discard_writes(bool on) noexcept { discard_writes_ = on; }

  /// The reads' frame boundaries (see frame_boundary_tracker).
  [[nodiscard]] const frame_boundary_tracker& reads() const noexcept
    requires TrackReads
  {
    return reads_;
  }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    if constexpr (!TrackReads) {
      return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
    }
    else {
      return boost::asio::async_initiate<ReadHandler,
                                         void(boost::beast::error_code, std::size_t)>(
          [this](auto&& h, const MutableBufferSequence& b) {
            using handler_type = std::decay_t<decltype(h)>;
            next_.async_read_some(
                b, tracked_read<handler_type, MutableBufferSequence>{std::move(h), b, &reads_});
          },
          handler, buffers);
    }
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, std::size_t)>(
        [this](auto&& h, const ConstBufferSequence& b) { append(std::move(h), b); }, handler,
        buffers);
  }

  /// Runs `fn(ec)` once everything buffered has been written (or failed).
  template <class Fn>
  void when_drained(Fn&& fn) {
    if (!writing_ && pending_.empty()) {
      boost::asio::post(get_executor(), boost::beast::bind_front_handler(std::move(fn), error_));
      return;
    }
    drained_ = make_waiter(std::forward<Fn>(fn));
  }

 private:
  struct waiter_base {
    virtual ~waiter_base() = default;
    virtual void complete(boost::beast::error_code ec) = 0;
  };
  template <class Fn>
  struct waiter final : waiter_base {
    Fn fn;
    executor_type ex;
    waiter(Fn f, executor_type e) : fn(std::move(f)), ex(std::move(e)) {}
    void complete(boost::beast::error_code ec) override {
      boost::asio::post(ex, boost::beast::bind_front_handler(std::move(fn), ec));
    }
  };
  template <class Fn>
  std::unique_ptr<waiter_base> make_waiter(Fn&& fn) {
    return std::make_unique<waiter<std::decay_t<Fn>>>(std::forward<Fn>(fn), get_executor());
  }

  template <class Handler, class ConstBufferSequence>
  void append(Handler&& handler, const ConstBufferSequence& buffers) {
    if (discard_writes_) {
      boost::asio::post(get_executor(),
                        boost::beast::bind_front_handler(std::move(handler), boost::beast::error_code{},
                                                         boost::asio::buffer_size(buffers)));
      return;
    }
    if (error_) {
      boost::asio::post(get_executor(),
                        boost::beast::bind_front_handler(std::move(handler), error_, 0));
      return;
    }
    std::size_t n = boost::asio::buffer_size(buffers);
    auto old = pending_.size();
    pending_.resize(old + n);
    boost::asio::buffer_copy(boost::asio::buffer(pending_.data() + old, n), buffers);
    if (!writing_) start_flush();
    auto done = [h = std::move(handler), n](boost::beast::error_code ec) mutable {
      std::move(h)(ec, ec ? std::size_t{0} : n);
    };
    if (buffered_bytes() > high_water) {
      BOOST_ASSERT(!write_waiter_);  // Beast has one write in flight at a time
      write_waiter_ = make_waiter(std::move(done));  // completes once drained below
    }
    else
      boost::asio::post(get_executor(),
                        boost::beast::bind_front_handler(std::move(done), boost::beast::error_code{}));
  }

  void start_flush() {
    writing_ = true;
    inflight_.swap(pending_);
    pending_.clear();
    boost::asio::async_write(next_, boost::asio::buffer(inflight_),
                             [this, keep = owner_.lock()](boost::beast::error_code ec, std::size_t) {
                               on_flushed(ec);
                               if (keep && !writing_ && on_drained_) on_drained_();
                             });
  }

  void on_flushed(boost::beast::error_code ec) {
    writing_ = false;
    inflight_.clear();
    if (ec) {
      error_ = ec;
      pending_.clear();
    }
    if (write_waiter_ && (ec || buffered_bytes() <= high_water)) std::exchange(write_waiter_, {})->complete(ec);
    if (!ec && !pending_.empty()) return start_flush();
    // Idle: give the buffers back (an idle socket should cost little memory).
    std::vector<char>().swap(inflight_);
    std::vector<char>().swap(pending_);
    if (drained_) std::exchange(drained_, {})->complete(error_);
  }

  NextLayer next_;
  frame_boundary_tracker reads_;
  std::weak_ptr<void> owner_;
  std::vector<char> pending_;   // appended since the write in flight started
  std::vector<char> inflight_;  // being written
  bool writing_ = false;
  bool discard_writes_ = false;
  boost::beast::error_code error_;
  std::unique_ptr<waiter_base> write_waiter_;  // Beast's write, held past high_water
  std::unique_ptr<waiter_base> drained_;       // teardown, waiting for the last bytes
  std::function<void()> on_drained_;
};

/// Closing: write what is buffered (the close frame), then tear down the socket.
template <class NextLayer, bool TrackReads, class TeardownHandler>
void async_teardown(boost::beast::role_type role, coalescing_stream<NextLayer, TrackReads>& stream,
                    TeardownHandler&& handler) {
  stream.when_drained([&stream, role, h = std::forward<TeardownHandler>(handler)](
                          boost::beast::error_code) mutable {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::move(h));
  });
}

template <class NextLayer, bool TrackReads>
void teardown(boost::beast::role_type role, coalescing_stream<NextLayer, TrackReads>& stream,
              boost::beast::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace roomcast::net

namespace boost::asio {

template <template <typename, typename> class Associator, class Handler, class Buffers,
          class DefaultCandidate>
struct associator<Associator, roomcast::net::tracked_read<Handler, Buffers>, DefaultCandidate> {
  using type = typename Associator<Handler, DefaultCandidate>::type;
  static type get(const roomcast::net::tracked_read<Handler, Buffers>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  static auto get(const roomcast::net::tracked_read<Handler, Buffers>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};

}  // namespace boost::asio
