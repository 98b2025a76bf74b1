#pragma once
// roomcast-bench: shared pieces of every scenario. A scenario connects clients
// (ws_conn) to a running server, drives load on loopback for a bounded time or
// count, and returns its figures as a JSON object; main prints them.

#include "ws_conn.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace roomcast::bench {

namespace json = boost::json;
using clock = std::chrono::steady_clock;

struct options {
  std::string scenario;
  std::string host = "127.0.0.1";
  std::uint16_t port = 4000;
  std::vector<std::uint16_t> ports;  // --ports: connections spread over these (a cluster's nodes)
  std::string path = "/socket/websocket?vsn=2.0.0";  // raw scenarios use "/"
  std::size_t connections = 100;
  std::size_t publishers = 1;
  double rate = 100;              // fanout: broadcasts per second (all publishers)
  std::size_t payload_bytes = 64;
  std::size_t rounds = 100;       // broadcast: rounds
  double duration_s = 10;         // echo / fanout: how long to send
  double timeout_s = 120;         // hard bound for any wait
  std::string topic = "bench:room";
  std::string label;              // free text, echoed in the JSON line
  unsigned threads = 1;           // client I/O threads
  int server_pid = 0;             // idle: read the server's RSS from /proc
  double settle_s = 2;            // idle: wait this long after the joins, then measure
  std::size_t window = 16;        // durable: pushes in flight per connection; store: per topic per commit
  bool store_sync_full = true;    // store: synchronous = FULL (else NORMAL)
  double tick_ms = 50;            // arena: the server's tick period
};

/// Client I/O threads around one io_context.
class client_pool {
 public:
  explicit client_pool(unsigned threads);
  ~client_pool();
  boost::asio::io_context& ioc() { return ioc_; }

  /// Opens `n` connections (at most `in_flight` handshakes at a time), giving
  /// connection i the message handler `handler(i)` before it connects; throws
  /// when one fails or the timeout passes.
  std::vector<std::shared_ptr<ws_conn>> connect(
      const options& o, std::size_t n,
      const std::function<ws_conn::message_handler(std::size_t)>& handler = {},
      std::size_t in_flight = 256);

 private:
  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
};

/// Polls `done` every millisecond until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& done, std::chrono::duration<double> timeout);

/// A Phoenix v2 text frame.
std::string phx_frame(std::string_view join_ref, std::string_view ref, std::string_view topic,
                      std::string_view event, const json::value& payload);

/// The event name of a Phoenix v2 text frame (4th element), without a full parse.
std::string_view phx_event(std::string_view frame);

/// Microseconds since an arbitrary epoch shared by every thread of this process.
std::int64_t now_us();

/// Latency percentiles over microsecond samples: {"p50_ms", "p99_ms", "p999_ms", "max_ms"}.
json::object percentiles(std::vector<std::int64_t>& samples_us);

/// Resident memory of a process in KiB (VmRSS), or -1.
long rss_kib(int pid);

using scenario = json::object (*)(const options&);
json::object run_presence(const options& o);
json::object run_joins(const options& o);
json::object run_idle(const options& o);
json::object run_echo(const options& o);
json::object run_broadcast(const options& o);
json::object run_fanout(const options& o);
json::object run_durable(const options& o);
json::object run_store(const options& o);
json::object run_arena(const options& o);

}  // namespace roomcast::bench
