#include "roomcast/client.hpp"

#include "net/beast.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/serialize.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>

namespace roomcast {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

std::string reply_message::reason() const {
  if (const auto* obj = response.if_object())
    if (const auto* r = obj->if_contains("reason"); r && r->is_string())
      return std::string(r->get_string());
  return {};
}

namespace {

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

bool is_ip_address(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

/// A client context that verifies the server against `o.ca_file` (or the system's CAs).
asio::ssl::context make_client_context(const client::options& o) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  if (o.ca_file.empty())
    ctx.set_default_verify_paths();
  else
    ctx.load_verify_file(o.ca_file);
  if (!o.cert_file.empty()) {
    ctx.use_certificate_chain_file(o.cert_file);
    ctx.use_private_key_file(o.key_file, asio::ssl::context::pem);
  }
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

}  // namespace

// Everything runs on one I/O thread; callers hand work over with post() and wait
// on futures or on the condition variable. Handlers capture `this` only: the
// destructor stops and joins the thread before anything is freed.
struct client::impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  asio::strand<asio::io_context::executor_type> strand = asio::make_strand(ioc);
  std::optional<asio::ssl::context> tls_context;  // wss:// only; outlives the stream
  std::variant<std::monostate, plain_ws, tls_ws> stream;  // set by connect()
  beast::flat_buffer buffer;
  std::deque<std::pair<std::string, bool>> outbox;  // strand only
  bool writing = false;                             // strand only
  std::optional<std::uint16_t> close_after_writes;  // strand only
  bool raw_mode = false;
  std::thread thread;

  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<message> messages;
  std::deque<raw_frame> raw_frames;
  std::map<std::string, std::promise<reply_message>> waiting_replies;
  std::map<std::string, std::string> join_refs;  // topic -> join_ref
  std::uint64_t next_ref = 0;
  bool open = false;
  std::optional<std::uint16_t> close_code;

  impl() : thread([this] { ioc.run(); }) {}

  ~impl() {
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  /// Runs `fn(ws)` on the connected stream, whichever kind it is.
  template <class Fn>
  void with_ws(Fn&& fn) {
    std::visit(
        [&](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) fn(ws);
        },
        stream);
  }

  // -- connect ---------------------------------------------------------------------------

  using done_ptr = std::shared_ptr<std::promise<void>>;
  using options_ptr = std::shared_ptr<const client::options>;

  static void fail(const done_ptr& done, const std::string& what) {
    done->set_exception(std::make_exception_ptr(std::runtime_error(what)));
  }

  void connect(const client::options& o) {
    raw_mode = o.raw;
    std::string target = o.path;
    char sep = '?';
    for (const auto& [k, v] : o.params) {
      target += sep;
      target += k + "=" + v;  // callers pass URL-safe values
      sep = '&';
    }
    if (o.tls) {
      tls_context.emplace(make_client_context(o));  // a bad CA or key file throws here
      stream.emplace<tls_ws>(strand, *tls_context);
    } else {
      stream.emplace<plain_ws>(strand);
    }
    // Handlers own what they touch: connect() may give up waiting before they run.
    auto done = std::make_shared<std::promise<void>>();
    auto result = done->get_future();
    auto opts = std::make_shared<const client::options>(o);
    asio::post(strand, [this, done, opts, target] {
      with_ws([&](auto& ws) { start_connect(ws, done, opts, target); });
    });
    if (result.wait_for(o.connect_timeout + std::chrono::seconds(1)) !=
        std::future_status::ready)
      throw std::runtime_error("connect timed out");
    result.get();
  }

  /// TCP connect, then (wss://) the TLS handshake, then the WebSocket handshake.
  template <class WS>
  void start_connect(WS& ws, done_ptr done, options_ptr opts, std::string target) {
    auto& socket = beast::get_lowest_layer(ws);
    socket.expires_after(opts->connect_timeout);
    tcp::endpoint endpoint(asio::ip::make_address(opts->host), opts->port);
    socket.async_connect(endpoint, [this, &ws, done, opts, target](beast::error_code ec) {
      if (ec) return fail(done, "connect failed: " + ec.message());
      beast::error_code ignored;
      beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true), ignored);
      if constexpr (std::is_same_v<WS, tls_ws>) {
        auto& tls = ws.next_layer();
        const std::string name = opts->server_name.empty() ? opts->host : opts->server_name;
        if (!is_ip_address(name)) SSL_set_tlsext_host_name(tls.native_handle(), name.c_str());
        tls.set_verify_callback(asio::ssl::host_name_verification(name));
        tls.async_handshake(asio::ssl::stream_base::client,
                            [this, &ws, done, opts, target](beast::error_code hec) {
                              if (hec) return fail(done, "TLS handshake failed: " + hec.message());
                              ws_handshake(ws, done, opts, target);
                            });
      } else {
        ws_handshake(ws, done, opts, target);
      }
    });
  }

  template <class WS>
  void ws_handshake(WS& ws, done_ptr done, options_ptr opts, const std::string& target) {
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(
        websocket::stream_base::timeout{opts->connect_timeout, websocket::stream_base::none(), false});
    ws.set_option(websocket::stream_base::decorator([opts](websocket::request_type& req) {
      for (const auto& [name, value] : opts->headers) req.set(name, value);
    }));
    auto res = std::make_shared<websocket::response_type>();
    ws.async_handshake(*res, opts->host + ":" + std::to_string(opts->port), target,
                       [this, done, res](beast::error_code hec) {
                         if (hec) {
                           std::string what = "handshake failed: " + hec.message();
                           if (res->result_int() != 0)
                             what += " (HTTP " + std::to_string(res->result_int()) + ")";
                           return fail(done, what);
                         }
                         {
                           std::lock_guard lock(mutex);
                           open = true;
                         }
                         do_read();
                         done->set_value();
                       });
  }

  // -- reading -----------------------------------------------------------------------------

  void do_read() {
    with_ws([this](auto& ws) {
      ws.async_read(buffer, [this, &ws](beast::error_code ec, std::size_t) { on_read(ws, ec); });
    });
  }

  template <class WS>
  void on_read(WS& ws, beast::error_code ec) {
    if (ec) {
      std::lock_guard lock(mutex);
      open = false;
      // A close frame may have arrived even when the read ends in another error
      // (e.g. the peer tore the connection down while we were still writing).
      auto peer_code = static_cast<std::uint16_t>(ws.reason().code);
      close_code = peer_code != 0 ? peer_code : std::uint16_t{1006};
      for (auto& [ref, promise] : waiting_replies)
        promise.set_exception(std::make_exception_ptr(std::runtime_error("connection closed")));
      waiting_replies.clear();
      changed.notify_all();
      return;
    }
    std::string data = beast::buffers_to_string(buffer.data());
    bool binary = ws.got_binary();
    buffer.consume(buffer.size());
    receive(std::move(data), binary);
    do_read();
  }

  void receive(std::string data, bool binary) {
    std::lock_guard lock(mutex);
    if (raw_mode) {
      raw_frames.push_back(raw_frame{std::move(data), binary});
      changed.notify_all();
      return;
    }
    auto decoded = binary ? protocol::decode_server_binary(data)
                          : protocol::decode_text(data, protocol::decode_limits{256});
    auto* msg = std::get_if<message>(&decoded);
    if (!msg) return;  // not a Phoenix frame: ignored
    if (msg->event == protocol::events::reply && msg->ref) {
      if (auto it = waiting_replies.find(*msg->ref); it != waiting_replies.end()) {
        reply_message r;
        if (const auto* obj = msg->payload.if_object()) {
          if (const auto* s = obj->if_contains("status"); s && s->is_string())
            r.status = std::string(s->get_string());
          if (const auto* resp = obj->if_contains("response")) r.response = *resp;
        }
        r.binary = msg->binary;
        r.raw = *msg;
        it->second.set_value(std::move(r));
        waiting_replies.erase(it);
        return;
      }
    }
    messages.push_back(std::move(*msg));
    changed.notify_all();
  }

  // -- writing -----------------------------------------------------------------------------

  void send(std::string data, bool binary) {
    asio::post(strand, [this, data = std::move(data), binary]() mutable {
      outbox.emplace_back(std::move(data), binary);
      if (!writing) do_write();
    });
  }

  void do_write() {
    if (outbox.empty()) {
      if (close_after_writes) start_close(*close_after_writes);
      return;
    }
    writing = true;
    with_ws([this](auto& ws) {
      ws.binary(outbox.front().second);
      ws.async_write(asio::buffer(outbox.front().first), [this](beast::error_code ec, std::size_t) {
        writing = false;
        if (ec) {
          outbox.clear();
          return;
        }
        outbox.pop_front();
        do_write();
      });
    });
  }

  void request_close(std::uint16_t code) {
    asio::post(strand, [this, code] {
      if (writing)
        close_after_writes = code;  // a close may not overlap a write
      else
        start_close(code);
    });
  }

  void start_close(std::uint16_t code) {
    close_after_writes.reset();
    with_ws([code](auto& ws) {
      ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code)),
                     [](beast::error_code) {});
    });
  }

  /// Registers a reply waiter under a fresh ref and returns both.
  std::pair<std::string, std::future<reply_message>> new_ref() {
    std::lock_guard lock(mutex);
    std::string ref = std::to_string(++next_ref);
    std::promise<reply_message> promise;
    auto future = promise.get_future();
    if (!open)
      promise.set_exception(std::make_exception_ptr(std::runtime_error("connection closed")));
    else
      waiting_replies.emplace(ref, std::move(promise));
    return {ref, std::move(future)};
  }

  std::optional<std::string> join_ref_of(std::string_view topic) {
    std::lock_guard lock(mutex);
    if (auto it = join_refs.find(std::string(topic)); it != join_refs.end()) return it->second;
    return std::nullopt;
  }
};

// -- client -----------------------------------------------------------------------------

client::client(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

client::~client() {
  if (is_open()) close();
}

std::unique_ptr<client> client::connect(const options& opts) {
  auto p = std::make_shared<impl>();
  p->connect(opts);
  return std::unique_ptr<client>(new client(std::move(p)));
}

std::future<reply_message> client::join(std::string_view topic, boost::json::value params) {
  auto [ref, future] = impl_->new_ref();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->join_refs.insert_or_assign(std::string(topic), ref);
  }
  impl_->send(protocol::encode_text(ref, ref, topic, protocol::events::join, params), false);
  return std::move(future);
}

std::future<reply_message> client::leave(std::string_view topic) {
  auto join_ref = impl_->join_ref_of(topic);
  auto [ref, future] = impl_->new_ref();
  impl_->send(protocol::encode_text(join_ref, ref, topic, protocol::events::leave,
                                    boost::json::object()),
              false);
  std::lock_guard lock(impl_->mutex);
  impl_->join_refs.erase(std::string(topic));
  return std::move(future);
}

std::future<reply_message> client::push(std::string_view topic, std::string_view event,
                                        boost::json::value payload) {
  auto join_ref = impl_->join_ref_of(topic);
  auto [ref, future] = impl_->new_ref();
  impl_->send(protocol::encode_text(join_ref, ref, topic, event, payload), false);
  return std::move(future);
}

std::future<reply_message> client::push_binary(std::string_view topic, std::string_view event,
                                               std::string_view bytes) {
  auto join_ref = impl_->join_ref_of(topic);
  auto [ref, future] = impl_->new_ref();
  impl_->send(protocol::encode_client_binary_push(join_ref.value_or(""), ref, topic, event, bytes),
              true);
  return std::move(future);
}

std::future<reply_message> client::heartbeat() {
  auto [ref, future] = impl_->new_ref();
  impl_->send(protocol::encode_text(std::nullopt, ref, protocol::phoenix_topic,
                                    protocol::events::heartbeat, boost::json::object()),
              false);
  return std::move(future);
}

std::optional<message> client::next_message(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->changed.wait_for(lock, timeout, [&] { return !impl_->messages.empty(); }))
    return std::nullopt;
  message m = std::move(impl_->messages.front());
  impl_->messages.pop_front();
  return m;
}

std::optional<message> client::wait_for(std::string_view topic, std::string_view event,
                                        std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  std::optional<message> found;
  impl_->changed.wait_for(lock, timeout, [&] {
    auto& q = impl_->messages;
    for (auto it = q.begin(); it != q.end(); ++it) {
      if (it->topic == topic && it->event == event) {
        found = std::move(*it);
        q.erase(it);
        return true;
      }
    }
    return false;
  });
  return found;
}

std::size_t client::pending_messages() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->messages.size();
}

void client::send_text(std::string text) { impl_->send(std::move(text), false); }

void client::send_binary(std::string bytes) { impl_->send(std::move(bytes), true); }

std::optional<raw_frame> client::next_raw(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  if (!impl_->changed.wait_for(lock, timeout, [&] { return !impl_->raw_frames.empty(); }))
    return std::nullopt;
  raw_frame f = std::move(impl_->raw_frames.front());
  impl_->raw_frames.pop_front();
  return f;
}

std::optional<std::uint16_t> client::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  impl_->changed.wait_for(lock, timeout, [&] { return !impl_->open && impl_->close_code; });
  if (impl_->open) return std::nullopt;
  return impl_->close_code;
}

bool client::is_open() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open;
}

void client::close(std::uint16_t code) {
  impl_->request_close(code);
  wait_closed(std::chrono::milliseconds(2'000));
}

}  // namespace roomcast
