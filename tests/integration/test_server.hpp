#pragma once
// A real Roomcast server on an ephemeral loopback port, with the channels the
// integration tests use, plus helpers that read like the protocol.

#include "roomcast/client.hpp"
#include "roomcast/server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <memory>
#include <string>

namespace roomcast::testing {

using namespace std::chrono_literals;

/// Bound for every wait in the tests: generous for a loaded CI machine, never
/// reached when things work.
inline constexpr std::chrono::milliseconds wait_limit = 5s;

/// Registers the test channels:
///  echo:*     accept all; reply ok with the payload; broadcast event+payload to all
///  room:*     on_join refuses {"refuse": true} with "not allowed", throws on
///             {"crash": true}, blocks for {"sleep_ms": N}; reply response {"joins": N} counts joins of this
///             room instance. Events: "shout" (broadcast), "shout_others"
///             (broadcast_from), "whisper" (push to the sender), "crash" (throws),
///             "silent" (no reply), "later" (broadcast "later" after 20 ms),
///             "ticks" (broadcast "tick" {n} every 10 ms, 3 times, then "ticks_done"),
///             "blast" {n, size} (n broadcasts; replies with the last broadcast_result),
///             "sleep" (blocks the room for 300 ms).
///             Any other event: the default ("unknown event"). A member who leaves
///             is announced to the others as "left" {"socket": id, "why": reason}.
///  private:*  refuses every join with "unauthorized".
///  small:*    every pushed event is broadcast and answered ok; its broadcasts are
///             dropped (policy drop) past a 64 KiB backlog of their own.
///  presence:* the built-in presence channel (roomcast::presence_channel).
///  journal:*  declares itself durable. Any event: broadcast "entry" with the
///             payload, reply ok {"mine": true}. "two": two broadcasts;
///             "not_object": broadcast an array (refused), reply {"dropped": n};
///             "whisper": push the payload back to the sender only;
///             "recent": fetch_history(0, 2) and push "recent" {"seqs", "ok"}.
void register_test_channels(server& srv);

/// True while a room:* channel is inside its "sleep" event.
bool room_is_sleeping();

/// Starts a server on 127.0.0.1:0 with the test channels; `configure` adds to
/// it before it starts.
std::unique_ptr<server> start_test_server(server_options options = {},
                                          const std::function<void(server&)>& configure = {});

client::options client_options(const server& srv);
std::unique_ptr<client> connect(const server& srv);

/// Joins and asserts the join was accepted.
reply_message join_ok(client& c, const std::string& topic,
                      boost::json::value params = boost::json::object());

/// Waits for a future with the test bound; fails the test on timeout.
template <class T>
T await(std::future<T> f) {
  if (f.wait_for(wait_limit) != std::future_status::ready) {
    ADD_FAILURE() << "timed out waiting for a reply";
    throw std::runtime_error("timed out waiting for a reply");
  }
  return f.get();
}

/// Polls `done` every 20 ms until it holds, for at most `limit`; how long it
/// took, or nullopt. For state only visible by asking (HTTP endpoints, another
/// process); wait on a message or a future where there is one.
std::optional<std::chrono::milliseconds> within(std::chrono::milliseconds limit,
                                                const std::function<bool()>& done);

/// A TCP connection to 127.0.0.1:port (5 s receive timeout), or -1.
int loopback_connect(std::uint16_t port);

/// A free loopback port (bound and released: good enough on a test machine).
std::uint16_t free_port();

/// A plain HTTP/1.1 request over a loopback socket; returns status and body.
struct http_result {
  int status = 0;
  std::string body;
  std::string headers;  ///< status line and headers (http_raw only)
};
/// `headers`: extra header lines, each ending in "\r\n".
http_result http_get(std::uint16_t port, const std::string& target,
                     const std::string& headers = "", const std::string& method = "GET");
http_result http_post(std::uint16_t port, const std::string& target, const std::string& body,
                      const std::string& headers = "");
http_result http_call(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& headers);
/// Sends `request` as it is; reads the answer (for a 101, only its headers).
http_result http_raw(std::uint16_t port, const std::string& request);

}  // namespace roomcast::testing
