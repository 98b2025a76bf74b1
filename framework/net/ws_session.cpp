#include "net/ws_session.hpp"

#include "net/coalescing_stream.hpp"
#include "protocol/errors.hpp"
#include "util/log.hpp"

#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <mutex>
#include <vector>

namespace roomcast::net {

namespace websocket = boost::beast::websocket;

namespace {

/// True when the comma-separated Sec-WebSocket-Protocol list names `wanted`.
bool offers_subprotocol(std::string_view offered, std::string_view wanted) {
  while (!offered.empty()) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  return false;
}

/// A parked session reopens its stream by replaying an upgrade through a fresh
/// websocket::stream whose answer is discarded: Beast offers no other way to an
/// open stream. Immutable, shared by all sessions.
const beast_request& reopen_request() {
  static const beast_request request = [] {
    beast_request r{http::verb::get, "/", 11};
    r.set(http::field::host, "roomcast");
    r.set(http::field::upgrade, "websocket");
    r.set(http::field::connection, "Upgrade");
    r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    r.set(http::field::sec_websocket_version, "13");
    return r;
  }();
  return request;
}

/// The WebSocket session logic, shared by plain and TLS sessions: the derived
/// class only owns the stream, hands it out through ws(), and closes its socket.
/// Threading: send() and close() may be called from any thread; they post onto
/// the stream's strand, and only the strand touches the stream.
template <class Derived>
class ws_session_base : public ws_sink {
 public:
  ws_session_base(upgrade_plan plan, const socket_limits& limits,
                  std::shared_ptr<session_registry> registry)
      : attach_(std::move(plan.attach)), limits_(limits), registry_(std::move(registry)) {}

  ~ws_session_base() override {
    registry_->remove(this);
    if (parked_) limits_.counters->sockets_parked.fetch_sub(1, std::memory_order_relaxed);
    if (!accepted_) return;
    // What ended it: the close we sent, else the peer's, else no close at all.
    std::uint16_t code = close_pending_ || closing_ ? close_code_
                                                    : peer_close_code_;
    util::counters::bump(limits_.counters->connections_closed[util::counters::kind_of(code)]);
  }

  /// Ties the coalescing layer to this session: its writes keep the session alive
  /// and its drained buffer updates the backlog. Before any handshake, since Beast
  /// writes the 101 answer through the layer too.
  void wire_layer() {
    auto& layer = derived().ws().next_layer();
    layer.set_owner(self());
    layer.on_drained([raw = this] { raw->publish_backlog(); });
  }

  /// Publishes the unsent bytes for the rooms (strand only). Also called by the
  /// coalescing layer once its buffer drained.
  void publish_backlog() {
    gauge_->bytes.store(unsent_bytes(), std::memory_order_relaxed);
  }

  void start(beast_request request) {
    auto& ws = derived().ws();
    // The Phoenix JS client offers the "phoenix" subprotocol (with an auth token
    // next to it); a browser drops the socket unless the server picks one.
    bool offers_phoenix = false;
    if (auto it = request.find(http::field::sec_websocket_protocol); it != request.end())
      offers_phoenix = offers_subprotocol(std::string_view(it->value().data(), it->value().size()),
                                          "phoenix");
    ws.set_option(websocket::stream_base::decorator(
        [offers_phoenix](websocket::response_type& res) {
          res.set(http::field::server, "roomcast");
          if (offers_phoenix) res.set(http::field::sec_websocket_protocol, "phoenix");
        }));
    configure(ws, limits_);
    ws.async_accept(request, beast::bind_front_handler(&ws_session_base::on_accept, self()));
  }

  /// What every stream of a session is set to, the first and any reopened one.
  template <class Stream>
  static void configure(Stream& ws, const socket_limits& limits) {
    ws.set_option(websocket::stream_base::timeout{limits.handshake_timeout,
                                                  websocket::stream_base::none(), false});
    ws.read_message_max(limits.max_frame_bytes);
    ws.auto_fragment(false);  // one frame per message: fewer headers, fewer write steps
  }

  // -- ws_sink ------------------------------------------------------------------------

  void send(frame_ptr frame) override {
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_.push_back(std::move(frame));
      if (flush_posted_) return;  // one post in flight drains the whole inbox
      flush_posted_ = true;
    }
    asio::post(derived().executor(), [s = self()] { s->flush(); });
  }

  void send_many(std::span<const frame_ptr> frames) override {
    if (frames.empty()) return;
    {
      std::lock_guard lock(inbox_mutex_);
      inbox_.insert(inbox_.end(), frames.begin(), frames.end());
      if (flush_posted_) return;
      flush_posted_ = true;
    }
    asio::post(derived().executor(), [s = self()] { s->flush(); });
  }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(derived().executor(),
               [s = self(), code, reason = std::move(reason)]() mutable {
                 s->request_close(code, std::move(reason));
               });
  }

 private:
  Derived& derived() { return static_cast<Derived&>(*this); }
  std::shared_ptr<Derived> self() { return derived().shared_from_this(); }

  gauge_ptr backlog() const override { return gauge_; }

  void ack(std::size_t n) override {
    // Credit: reading stopped at the window resumes once frames are finished.
    auto before = unacked_.fetch_sub(n);
    if (before >= limits_.read_window && read_paused_.exchange(false))
      asio::post(derived().executor(), [s = self()] { s->do_read(); });
  }

  void abort() override {
    asio::post(derived().executor(), [s = self()] { s->fail_socket(); });
  }

  /// The socket is unusable: close it, and make sure the actor hears of it even
  /// when no read is pending to notice (reading pauses at the read window).
  void fail_socket(beast::error_code ec = asio::error::connection_aborted) {
    failed_ = true;
    gauge_->closing = true;
    if (close_deadline_) close_deadline_->cancel();
    clear_queue();
    derived().close_socket();
    if (!read_pending_) notify_closed(ec);
  }

  // -- handshake and reads ---------------------------------------------------------------

  void on_accept(beast::error_code ec) {
    if (ec) {
      log::debug("ws", "handshake failed", {{"error", ec.message()}});
      return;  // no actor yet; the session ends here
    }
    accepted_ = true;
    ++activity_;  // a new socket parks only after a whole quiet sweep interval
    util::counters::bump(limits_.counters->connections_opened);
    receiver_ = std::exchange(attach_, {})(self());
    if (close_pending_) {
      do_close();
      return;
    }
    do_read();
  }

  void do_read() {
    if (failed_) return notify_closed(asio::error::connection_aborted);  // idempotent
    if (read_closed_) return;
    read_pending_ = true;
    // Between messages, with nothing unread inside Beast, wait for the socket to
    // become readable first: an idle socket then holds no read buffer and no
    // read operation, only a small wait. Bytes already in the kernel are not
    // missed: Asio queues a wait with EPOLL_CTL_MOD, which re-arms the socket's
    // edge-triggered registration (epoll_reactor::start_op; tested with a large
    // frame and a small one sent together).
    if constexpr (Derived::can_park) {
      if (!stream_ready() ||
          derived().ws().next_layer().reads().drained_after(messages_read_)) {
        waiting_ = true;
        derived().wait_readable(beast::bind_front_handler(&ws_session_base::on_readable, self()));
        return;
      }
    }
    start_read();
  }

  void start_read() {
    derived().ws().async_read(buffer_,
                              beast::bind_front_handler(&ws_session_base::on_read, self()));
  }

  void on_readable(beast::error_code ec) {
    waiting_ = false;
    if (read_closed_) {
      read_pending_ = false;
      return;
    }
    if (ec || failed_) {
      read_pending_ = false;
      return notify_closed(ec ? ec : beast::error_code(asio::error::connection_aborted));
    }
    if (closing_) {
      read_pending_ = false;  // Beast's close reads the peer's answer; on_close reports it
      return;
    }
    ++activity_;
    if (!stream_or_reopen()) {
      readable_ = true;  // read once the stream is back (read_pending_ stays set)
      return;
    }
    start_read();
  }

  void on_read(beast::error_code ec, std::size_t) {
    read_pending_ = false;
    if (ec) {
      notify_closed(ec);
      return;
    }
    ++messages_read_;
    ++activity_;
    util::counters::bump(limits_.counters->messages_in);
    util::counters::bump(limits_.counters->bytes_in, buffer_.size());
    if (receiver_)
      receiver_->on_frame(beast::buffers_to_string(buffer_.data()), derived().ws().got_binary());
    buffer_.consume(buffer_.size());
    buffer_.shrink_to_fit();  // an idle socket keeps no read buffer
    // Read on only while the actor has credit: a flooding client is slowed by TCP.
    if (unacked_.fetch_add(1) + 1 < limits_.read_window) return do_read();
    read_paused_ = true;
    if (unacked_.load() < limits_.read_window && read_paused_.exchange(false)) do_read();
  }

  void notify_closed(beast::error_code ec) {
    if (read_closed_) return;
    read_closed_ = true;
    gauge_->closing = true;
    if (close_deadline_) close_deadline_->cancel();  // closed: nothing left to force
    if (ec == websocket::error::message_too_big)
      util::counters::bump(limits_.counters->oversized_frames);
    std::uint16_t code = 1006;
    if (ec == websocket::error::closed) code = derived().ws().reason().code;
    else if (ec == websocket::error::message_too_big) code = 1009;
    peer_close_code_ = code;
    if (auto r = std::move(receiver_)) r->on_closed(code);
    receiver_.reset();  // breaks the session <-> actor cycle
    std::lock_guard lock(inbox_mutex_);
    inbox_.clear();
  }

  void clear_queue() {
    std::vector<frame_ptr>().swap(queue_);
    queue_head_ = 0;
    queued_bytes_ = 0;
  }

  // -- writes ------------------------------------------------------------------------------

  void flush() {
    std::vector<frame_ptr> batch;
    {
      std::lock_guard lock(inbox_mutex_);
      batch.swap(inbox_);
      flush_posted_ = false;
    }
    if (closing_ || failed_) return;
    if (queue_head_ > 0 && queue_head_ * 2 >= queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(queue_head_));
      queue_head_ = 0;  // keep the written prefix from growing without end
    }
    for (auto& frame : batch) {
      if (close_pending_ || closing_) break;
      if (over_budget(*frame) && !make_room(*frame)) continue;
      queued_bytes_ += frame->data.size();
      queue_.push_back(std::move(frame));
    }
    if (!writing_) do_write();
    publish_backlog();
  }


  // -- outbound budget ---------------------------------------------------------------------

  /// Unsent bytes: queued here plus accepted by the coalescing layer.
  [[nodiscard]] std::size_t unsent_bytes() const {
    auto& self = *const_cast<ws_session_base*>(this);
    return queued_bytes_ +
           (self.stream_ready() ? self.derived().ws().next_layer().buffered_bytes() : 0);
  }

  /// A frame of `size` bytes would take a non-empty backlog over budget. (A single
  /// frame larger than the budget still goes out when nothing else waits.)
  bool over_budget(const outbound_frame& frame) const {
    auto queued = unsent_bytes();
    auto budget = frame.budget ? frame.budget : limits_.outbound_budget_bytes;
    return queued > 0 && queued + frame.data.size() > budget;
  }

  /// Applies `frame`'s overflow policy; true when it may be queued after all.
  bool make_room(const outbound_frame& frame) {
    switch (frame.policy) {
      case overflow_policy::drop:
        note_dropped(1);
        return false;
      case overflow_policy::drop_oldest: {
        // Older droppable frames not yet handed to Beast make way, oldest first.
        for (std::size_t i = unsent_begin(); i < queue_.size() && over_budget(frame); ++i) {
          auto& old = queue_[i];
          if (!old || old->policy == overflow_policy::close) continue;
          queued_bytes_ -= old->data.size();
          old.reset();
          note_dropped(1);
        }
        if (!over_budget(frame)) return true;
        note_dropped(1);
        return false;
      }
      case overflow_policy::close:
        overflow_close();
        return false;
    }
    return false;
  }

  /// Index of the first queued frame Beast has not taken yet.
  [[nodiscard]] std::size_t unsent_begin() const { return queue_head_ + (writing_ ? 1 : 0); }

  void note_dropped(std::uint64_t n) {
    dropped_ += n;
    util::counters::bump(limits_.counters->frames_dropped, n);
  }

  /// The client reads too slowly for a frame that must not be dropped: close with
  /// 1013, and drop the connection if even the close cannot get through in time.
  void overflow_close() {
    if (close_pending_ || closing_) return;
    util::counters::bump(limits_.counters->backpressure_closes);
    gauge_->closing = true;
    for (std::size_t i = unsent_begin(); i < queue_.size(); ++i) queue_[i].reset();
    queued_bytes_ = 0;
    request_close(protocol::close_codes::try_again_later, "client too slow: outbound backlog over budget");
  }

  void do_write() {
    if (failed_ || closing_) return;
    while (queue_head_ < queue_.size() && !queue_[queue_head_]) ++queue_head_;  // dropped
    if (queue_head_ == queue_.size()) {
      clear_queue();  // idle: release the queue's memory
      publish_backlog();
      if (dropped_ > 0 && receiver_ && !close_pending_) {
        receiver_->on_dropped(dropped_);  // told once, now that the backlog drained
        dropped_ = 0;
      }
      if (close_pending_ && !closing_) do_close();
      return;
    }
    if (!stream_or_reopen()) return;  // on_reopened() writes once the stream is back
    ++activity_;
    writing_ = true;
    const auto& frame = *queue_[queue_head_];
    queued_bytes_ -= frame.data.size();  // from here on the coalescing layer counts it
    publish_backlog();
    derived().ws().binary(frame.binary);
    derived().ws().async_write(asio::buffer(frame.data),
                               beast::bind_front_handler(&ws_session_base::on_write, self()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    // The socket may have been failed meanwhile (abort): the queue is gone then.
    if (ec || failed_) return fail_socket(ec ? ec : beast::error_code(asio::error::connection_aborted));
    util::counters::bump(limits_.counters->messages_out);
    util::counters::bump(limits_.counters->bytes_out, queue_[queue_head_]->data.size());
    queue_[queue_head_++].reset();
    do_write();
  }

  // -- parking ------------------------------------------------------------------------------
  // An idle plain socket gives back its WebSocket state (Beast's stream, about 2.5 KB
  // with its inline read buffer) and keeps only the socket and a readability wait.
  // The server's sweep parks sessions that stayed quiet for a whole sweep interval;
  // the next read, write or close reopens the stream first.

 public:
  void sweep_idle() override {
    if constexpr (Derived::can_park)
      asio::post(derived().executor(), [s = self()] { s->park_if_quiet(); });
  }

 private:
  void park_if_quiet() {
    bool quiet = activity_ == activity_at_sweep_;
    activity_at_sweep_ = activity_;
    if (!quiet || !waiting_ || reopening_ || writing_ || !accepted_ || close_pending_ ||
        closing_ || failed_ || read_closed_ || !stream_ready() ||
        queue_head_ != queue_.size() || !derived().ws().next_layer().idle())
      return;
    derived().park();
    parked_ = true;
    messages_read_ = 0;  // the next stream's reads start from scratch
    limits_.counters->sockets_parked.fetch_add(1, std::memory_order_relaxed);
  }

  /// The stream exists and is open (not parked, not being reopened).
  bool stream_ready() {
    if constexpr (Derived::can_park) return derived().stream_exists() && !reopening_;
    else return true;
  }

  /// True when the stream is ready; otherwise starts reopening it (once) and
  /// returns false: on_reopened() carries on where the caller stopped.
  bool stream_or_reopen() {
    if (stream_ready()) return true;
    if constexpr (Derived::can_park) {
      if (!reopening_) {
        reopening_ = true;
        auto& ws = derived().make_stream();
        configure(ws, limits_);
        wire_layer();
        ws.next_layer().discard_writes(true);
        ws.async_accept(reopen_request(),
                        beast::bind_front_handler(&ws_session_base::on_reopened, self()));
      }
    }
    return false;
  }

  void on_reopened(beast::error_code ec) {
    reopening_ = false;
    parked_ = false;
    derived().ws().next_layer().discard_writes(false);
    limits_.counters->sockets_parked.fetch_sub(1, std::memory_order_relaxed);
    bool read_next = std::exchange(readable_, false);
    if (ec || failed_ || read_closed_) {
      // The read this reopen was for will not start: nothing is pending any more,
      // so the end of the socket must be reported here (notify_closed is idempotent).
      if (read_next) read_pending_ = false;
      if (!failed_) return fail_socket(ec ? ec : beast::error_code(asio::error::connection_aborted));
      if (!read_pending_) notify_closed(asio::error::connection_aborted);
      return;
    }
    if (read_next) start_read();
    if (!writing_ && !closing_) do_write();  // queued frames, then a requested close
  }

  // -- close --------------------------------------------------------------------------------

  void request_close(std::uint16_t code, std::string reason) {
    if (close_pending_ || closing_ || failed_ || read_closed_) return;  // done already
    close_pending_ = true;
    close_code_ = code;
    close_text_ = std::move(reason);
    if (close_text_.size() > 123) close_text_.resize(123);  // a close frame's limit
    // Every close is bounded: a peer that stops reading could otherwise hold a
    // write (and so the close behind it) forever.
    close_deadline_ = std::make_unique<asio::steady_timer>(derived().executor(),
                                                           limits_.handshake_timeout);
    close_deadline_->async_wait([s = self()](beast::error_code ec) {
      if (!ec) s->fail_socket(asio::error::timed_out);
    });
    if (!accepted_) return;  // on_accept closes once the handshake is done
    if (!writing_ && queue_head_ == queue_.size()) do_close();
  }

  void do_close() {
    if (failed_) return;
    if (!stream_or_reopen()) return;  // on_reopened() closes once the stream is back
    closing_ = true;
    derived().ws().async_close(websocket::close_reason(static_cast<websocket::close_code>(close_code_),
                                                       close_text_),
                               beast::bind_front_handler(&ws_session_base::on_close, self()));
  }

  void on_close(beast::error_code ec) {
    if (ec) return fail_socket(ec);
    // Closed cleanly; a pending read reports it, otherwise (reading paused, or
    // the close came before the first read) tell the actor here.
    if (!read_pending_ || waiting_) notify_closed(websocket::error::closed);
  }

  // Only the plan's attach is kept: its refusal was dealt with before the session.
  std::function<std::shared_ptr<ws_receiver>(std::shared_ptr<ws_sink>)> attach_;
  socket_limits limits_;
  std::uint16_t peer_close_code_ = 1006;  // the peer's close code; 1006: none came
  std::shared_ptr<session_registry> registry_;
  std::shared_ptr<ws_receiver> receiver_;
  beast::flat_buffer buffer_;

  std::mutex inbox_mutex_;
  std::vector<frame_ptr> inbox_;  // guarded by inbox_mutex_
  bool flush_posted_ = false;     // guarded by inbox_mutex_

  std::shared_ptr<backlog_gauge> gauge_ = std::make_shared<backlog_gauge>();
  std::atomic<std::size_t> unacked_{0};  // frames handed to the actor, not yet acked
  std::atomic<bool> read_paused_{false};  // reading stopped at the read window

  // Strand-only state.
  std::vector<frame_ptr> queue_;  // frames [queue_head_, end) wait to be written
  std::size_t queue_head_ = 0;
  std::size_t queued_bytes_ = 0;  // bytes of queued frames Beast has not taken yet
  std::uint64_t dropped_ = 0;     // dropped since the client was last told
  std::uint64_t messages_read_ = 0;  // messages the current stream delivered
  std::uint64_t activity_ = 0;       // reads and writes so far
  std::uint64_t activity_at_sweep_ = 0;
  bool parked_ = false;     // no open stream: parked, or being reopened
  bool reopening_ = false;  // a parked stream is being reopened
  bool readable_ = false;   // the socket became readable while parked
  bool read_closed_ = false;
  bool read_pending_ = false;  // a read, or a wait for readability, is in flight
  bool waiting_ = false;       // ... and it is the wait
  std::unique_ptr<asio::steady_timer> close_deadline_;  // armed by request_close, until closed
  bool accepted_ = false;
  bool writing_ = false;
  bool close_pending_ = false;
  bool closing_ = false;
  bool failed_ = false;
  std::uint16_t close_code_ = 1000;  // what request_close asked for
  std::string close_text_;
};

class plain_ws_session : public ws_session_base<plain_ws_session>,
                         public std::enable_shared_from_this<plain_ws_session> {
 public:
  // The layer holds a reference: the socket stays here while a parked session
  // has no stream (see "parking" above).
  using stream_type = websocket::stream<coalescing_stream<tcp::socket&>, false>;
  static constexpr bool can_park = true;

  plain_ws_session(tcp::socket&& socket, upgrade_plan plan, const socket_limits& limits,
                   std::shared_ptr<session_registry> registry)
      : ws_session_base(std::move(plan), limits, std::move(registry)),
        socket_(std::move(socket)),
        ws_(std::make_unique<stream_type>(socket_)) {}

  stream_type& ws() { return *ws_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }
  void close_socket() {
    beast::error_code ignored;
    socket_.close(ignored);
  }
  template <class Handler>
  void wait_readable(Handler&& handler) {
    socket_.async_wait(tcp::socket::wait_read, std::forward<Handler>(handler));
  }

  [[nodiscard]] bool stream_exists() const { return ws_ != nullptr; }
  void park() { ws_.reset(); }
  stream_type& make_stream() {
    ws_ = std::make_unique<stream_type>(socket_);
    return *ws_;
  }

 private:
  // A plain socket, not a tcp_stream: the websocket stream's own timer covers
  // the handshake and close timeouts, so no per-connection timers sit idle.
  tcp::socket socket_;
  std::unique_ptr<stream_type> ws_;  // declared after socket_: destroyed first
};

/// wss://: the TLS stream that carried the HTTP upgrade, under the same
/// coalescing layer (many small frames become one TLS write, so fewer records).
class tls_ws_session : public ws_session_base<tls_ws_session>,
                       public std::enable_shared_from_this<tls_ws_session> {
 public:
  using stream_type = websocket::stream<coalescing_stream<beast::ssl_stream<beast::tcp_stream>, false>, false>;

  tls_ws_session(beast::ssl_stream<beast::tcp_stream>&& stream, ssl_context_ptr context,
                 upgrade_plan plan, const socket_limits& limits,
                 std::shared_ptr<session_registry> registry)
      : ws_session_base(std::move(plan), limits, std::move(registry)),
        context_(std::move(context)),
        ws_(std::move(stream)) {}

  stream_type& ws() { return ws_; }
  void close_socket() { beast::get_lowest_layer(ws_).close(); }
  // The TLS layer may hold decrypted bytes the socket no longer shows as readable,
  // and its session state cannot be set aside: TLS sockets never park.
  static constexpr bool can_park = false;
  asio::any_io_executor executor() { return ws_.get_executor(); }

 private:
  ssl_context_ptr context_;  // the context this connection's TLS state came from
  stream_type ws_;
};

/// Wires the coalescing layer to its session, registers it, and starts the handshake.
template <class Session>
void launch(const std::shared_ptr<Session>& session, beast_request request,
            session_registry& registry, const std::string& remote_address) {
  session->wire_layer();
  registry.add(session, remote_address);
  session->start(std::move(request));
}

}  // namespace

void start_tls_ws_session(beast::ssl_stream<beast::tcp_stream> stream, ssl_context_ptr context,
                          beast_request request, upgrade_plan plan, const socket_limits& limits,
                          std::shared_ptr<session_registry> registry,
                          const std::string& remote_address) {
  auto session = std::make_shared<tls_ws_session>(std::move(stream), std::move(context),
                                                  std::move(plan), limits, registry);
  launch(session, std::move(request), *registry, remote_address);
}

void start_plain_ws_session(beast::tcp_stream stream, beast_request request, upgrade_plan plan,
                            const socket_limits& limits,
                            std::shared_ptr<session_registry> registry,
                            const std::string& remote_address) {
  auto session = std::make_shared<plain_ws_session>(stream.release_socket(), std::move(plan),
                                                    limits, registry);
  launch(session, std::move(request), *registry, remote_address);
}

}  // namespace roomcast::net
