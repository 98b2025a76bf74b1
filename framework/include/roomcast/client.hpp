#pragma once
// A C++ WebSocket client for Roomcast servers (Phoenix Channels v2, or raw frames).
// Runs its own I/O thread; every call is thread-safe. Used by tests, benchmarks and
// examples, and by applications that talk to a Roomcast server from C++.
//
//   auto c = roomcast::client::connect({.port = 4000});
//   auto joined = c->join("room:lobby").get();          // phx_reply
//   auto r = c->push("room:lobby", "new_msg", {{"body", "hi"}}).get();
//   auto msg = c->wait_for("room:lobby", "new_msg", 1s);  // a broadcast

#include "roomcast/message.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast {

/// A phx_reply as the client sees it.
struct reply_message {
  std::string status;               ///< "ok" or "error"
  boost::json::value response;      ///< the response object
  std::optional<std::string> binary;  ///< bytes of a binary reply
  message raw;                      ///< the whole envelope

  [[nodiscard]] bool ok() const noexcept { return status == "ok"; }
  /// response["reason"] when present, else "".
  [[nodiscard]] std::string reason() const;
};

/// A raw frame (raw endpoint mode).
struct raw_frame {
  std::string data;
  bool binary = false;
};

class client {
 public:
  struct options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4000;
    std::string path = "/socket/websocket";
    std::map<std::string, std::string> params = {{"vsn", "2.0.0"}};
    bool raw = false;  ///< raw mode: no envelope decoding; frames go to next_raw()
    std::map<std::string, std::string> headers;  ///< extra upgrade headers (Origin, ...)
    std::chrono::milliseconds connect_timeout{5'000};

    // -- wss:// -----------------------------------------------------------------------
    bool tls = false;
    /// CAs (PEM) the server's certificate must chain to; empty: the system's CAs.
    std::string ca_file;
    /// The name the certificate must carry (and SNI); empty: `host`.
    std::string server_name;
    /// A client certificate and its key (PEM), for servers that ask for one.
    std::string cert_file;
    std::string key_file;
  };

  /// Connects and completes the WebSocket handshake; throws std::runtime_error
  /// (with the HTTP status when the server refused the upgrade).
  static std::unique_ptr<client> connect(const options& opts);

  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // -- Phoenix channels --------------------------------------------------------------

  std::future<reply_message> join(std::string_view topic,
                                  boost::json::value params = boost::json::object());
  std::future<reply_message> leave(std::string_view topic);
  std::future<reply_message> push(std::string_view topic, std::string_view event,
                                  boost::json::value payload = boost::json::object());
  std::future<reply_message> push_binary(std::string_view topic, std::string_view event,
                                         std::string_view bytes);
  std::future<reply_message> heartbeat();

  /// Waits for the next pushed message (a non-reply, or a reply nobody waits for).
  std::optional<message> next_message(std::chrono::milliseconds timeout);
  /// Waits for a message on `topic` with `event`; other messages stay queued.
  std::optional<message> wait_for(std::string_view topic, std::string_view event,
                                  std::chrono::milliseconds timeout);
  /// Messages received and not yet taken.
  [[nodiscard]] std::size_t pending_messages() const;

  // -- raw frames ----------------------------------------------------------------------

  void send_text(std::string text);
  void send_binary(std::string bytes);
  std::optional<raw_frame> next_raw(std::chrono::milliseconds timeout);

  // -- connection ----------------------------------------------------------------------

  /// Waits until the server closed the socket (or it failed); returns the close
  /// code (1006 when the connection dropped without a close frame).
  std::optional<std::uint16_t> wait_closed(std::chrono::milliseconds timeout);
  [[nodiscard]] bool is_open() const;
  /// Sends a close frame and waits (bounded) for the server's answer.
  void close(std::uint16_t code = 1000);

  struct impl;

 private:
  explicit client(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace roomcast
