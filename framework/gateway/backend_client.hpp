#pragma once
// An HTTP/1.1 client for one backend service: keep-alive connections in a pool,
// a timeout per call, at most `max_in_flight` calls at a time (the rest wait in
// a bounded queue), retries only for idempotent calls, and a circuit breaker:
// after `failure_threshold` failures in a row the backend is skipped for
// `open_for` (calls fail at once with `unavailable`), then one trial call decides.
// Everything runs on the server's I/O threads, on one strand per backend: no
// caller ever blocks.

#include "metrics/histogram.hpp"
#include "net/beast.hpp"
#include "util/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace roomcast::gateway {

struct backend_options {
  std::string name;  ///< for logs and metrics
  std::string host;  ///< an IP address or a name
  std::uint16_t port = 80;
  std::chrono::milliseconds timeout{3'000};  ///< one attempt: connect, write and read together
  std::size_t max_in_flight = 32;
  std::size_t max_queued = 1'024;
  std::size_t failure_threshold = 5;
  std::chrono::milliseconds open_for{2'000};
  std::size_t retries = 1;  ///< extra attempts for idempotent calls whose connection failed
  std::chrono::milliseconds idle_ttl{2'000};  ///< keep-alive connections older than this are closed
};

struct call_result {
  enum class outcome {
    ok,           ///< a 2xx answer (body in `body`)
    bad_status,   ///< another status (in `status`)
    timeout,      ///< no answer within the timeout
    unavailable,  ///< could not connect, or the circuit is open
    busy,         ///< the queue is full
  };
  outcome what = outcome::unavailable;
  int status = 0;
  std::string body;
  std::string error;  ///< what went wrong, for logs
  std::chrono::nanoseconds took{0};
};

/// Counters for /metrics (relaxed atomics, read by the exposition).
struct backend_stats {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::uint64_t> failures{0};  ///< any outcome but ok
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> rejected{0};  ///< circuit open or queue full: never sent
  std::atomic<std::uint64_t> in_flight{0};  ///< sent and not answered yet
  std::atomic<bool> circuit_open{false};
  metrics::histogram latency;
};

class backend_client : public std::enable_shared_from_this<backend_client> {
 public:
  using callback = std::function<void(call_result)>;

  backend_client(net::asio::io_context& ioc, backend_options options);

  /// POSTs `body` (JSON) to `target`. `done` runs once, on an I/O thread.
  void post_json(std::string target, std::string body, bool idempotent, callback done);

  [[nodiscard]] const backend_options& options() const { return options_; }
  [[nodiscard]] const backend_stats& stats() const { return stats_; }
  /// Failed calls are logged through this: at most one line a second per backend.
  [[nodiscard]] log::rate_limiter& failure_log() { return failure_log_; }

 private:
  struct call {
    std::string target;
    std::string body;
    bool idempotent = false;
    std::size_t attempts = 0;
    std::chrono::steady_clock::time_point started;
    callback done;
  };
  struct connection;

  void submit(std::shared_ptr<call> c);  // on the strand
  void start(std::shared_ptr<call> c);   // on the strand: a slot is free
  void finish(const std::shared_ptr<call>& c, call_result result, bool reusable,
              std::shared_ptr<connection> conn);
  void run_next();
  /// Answers a call that was never sent (circuit open, queue full, expired in
  /// the queue) and counts it.
  void fail_unsent(call& c, call_result::outcome what, std::string why);
  void prune_idle(std::chrono::steady_clock::time_point now);
  [[nodiscard]] bool circuit_allows();
  void record(bool failed);

  net::asio::io_context& ioc_;
  net::asio::strand<net::asio::io_context::executor_type> strand_;
  backend_options options_;
  std::string port_text_;    // options_.port, for the resolver
  std::string host_header_;  // the Host header of every request
  backend_stats stats_;
  log::rate_limiter failure_log_;
  std::deque<std::shared_ptr<call>> queue_;
  std::vector<std::shared_ptr<connection>> idle_;
  std::size_t running_ = 0;
  std::size_t failures_in_a_row_ = 0;
  std::chrono::steady_clock::time_point open_until_{};
  bool trial_running_ = false;  // half-open: one call decides
};

}  // namespace roomcast::gateway
