#include "gateway/backend_client.hpp"

#include "util/log.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace roomcast::gateway {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using net::tcp;

struct backend_client::connection {
  explicit connection(const asio::strand<asio::io_context::executor_type>& strand)
      : stream(strand) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  http::response<http::string_body> response;
  std::chrono::steady_clock::time_point idle_since;
};

backend_client::backend_client(asio::io_context& ioc, backend_options options)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      options_(std::move(options)),
      port_text_(std::to_string(options_.port)),
      // An IPv6 literal goes in brackets (RFC 7230 5.4).
      host_header_((options_.host.find(':') != std::string::npos ? "[" + options_.host + "]"
                                                                  : options_.host) +
                   ":" + port_text_) {}

void backend_client::post_json(std::string target, std::string body, bool idempotent,
                               callback done) {
  auto c = std::make_shared<call>();
  c->target = std::move(target);
  c->body = std::move(body);
  c->idempotent = idempotent;
  c->started = std::chrono::steady_clock::now();
  c->done = std::move(done);
  asio::post(strand_, [self = shared_from_this(), c] { self->submit(c); });
}

bool backend_client::circuit_allows() {
  if (failures_in_a_row_ < options_.failure_threshold) return true;
  // Open: nothing goes through until open_for has passed; then one trial call.
  if (std::chrono::steady_clock::now() < open_until_ || trial_running_) return false;
  trial_running_ = true;
  return true;
}

void backend_client::record(bool failed) {
  if (!failed) {
    if (failures_in_a_row_ >= options_.failure_threshold)
      log::info("gateway", "backend recovered: circuit closed", {{"backend", options_.name}});
    failures_in_a_row_ = 0;
    trial_running_ = false;
    stats_.circuit_open.store(false, std::memory_order_relaxed);
    return;
  }
  ++failures_in_a_row_;
  trial_running_ = false;
  if (failures_in_a_row_ >= options_.failure_threshold) {
    if (!stats_.circuit_open.exchange(true, std::memory_order_relaxed))
      log::warn("gateway", "backend failing: circuit open", {{"backend", options_.name}});
    open_until_ = std::chrono::steady_clock::now() + options_.open_for;
  }
}

void backend_client::fail_unsent(call& c, call_result::outcome what, std::string why) {
  stats_.failures.fetch_add(1, std::memory_order_relaxed);
  auto& counter = what == call_result::outcome::timeout ? stats_.timeouts : stats_.rejected;
  counter.fetch_add(1, std::memory_order_relaxed);
  call_result r;
  r.what = what;
  r.error = std::move(why);
  c.done(std::move(r));
}

void backend_client::submit(std::shared_ptr<call> c) {
  stats_.calls.fetch_add(1, std::memory_order_relaxed);
  if (failures_in_a_row_ >= options_.failure_threshold &&
      std::chrono::steady_clock::now() < open_until_)
    return fail_unsent(*c, call_result::outcome::unavailable, "circuit open");
  if (running_ >= options_.max_in_flight) {
    if (queue_.size() >= options_.max_queued)
      return fail_unsent(*c, call_result::outcome::busy, "queue full");
    queue_.push_back(std::move(c));
    return;
  }
  if (!circuit_allows()) return fail_unsent(*c, call_result::outcome::unavailable, "circuit open");
  start(std::move(c));
}

void backend_client::run_next() {
  auto now = std::chrono::steady_clock::now();
  while (running_ < options_.max_in_flight && !queue_.empty()) {
    auto c = std::move(queue_.front());
    queue_.pop_front();
    if (now - c->started >= options_.timeout)  // its caller has given up
      fail_unsent(*c, call_result::outcome::timeout, "timed out in the queue");
    else if (!circuit_allows())
      fail_unsent(*c, call_result::outcome::unavailable, "circuit open");
    else
      start(std::move(c));
  }
}

void backend_client::start(std::shared_ptr<call> c) {
  ++running_;
  stats_.in_flight.store(running_, std::memory_order_relaxed);
  ++c->attempts;
  // One deadline for the attempt: connecting, writing and reading together.
  auto now = std::chrono::steady_clock::now();
  auto deadline = now + options_.timeout;
  prune_idle(now);
  // A pooled connection (the newest: the least likely to have been closed).
  std::shared_ptr<connection> conn;
  if (!idle_.empty()) {
    conn = std::move(idle_.back());
    idle_.pop_back();
  }
  auto self = shared_from_this();
  auto send = [self, c, deadline](std::shared_ptr<connection> link) {
    link->request = {http::verb::post, c->target, 11};
    link->request.set(http::field::host, self->host_header_);
    link->request.set(http::field::content_type, "application/json");
    link->request.set(http::field::user_agent, "roomcast-gateway");
    link->request.keep_alive(true);
    link->request.body() = c->body;
    link->request.prepare_payload();
    link->response = {};
    link->stream.expires_at(deadline);
    http::async_write(link->stream, link->request, [self, c, conn = link](beast::error_code wrote, std::size_t) {
      if (wrote == beast::error::timeout)
        return self->finish(c, {call_result::outcome::timeout, 0, {}, "timeout"}, false, conn);
      if (wrote) return self->finish(c, {call_result::outcome::unavailable, 0, {}, "write: " + wrote.message()}, false, conn);
      http::async_read(conn->stream, conn->buffer, conn->response,
                       [self, c, conn](beast::error_code ec, std::size_t) {
                         if (ec == beast::error::timeout)
                           return self->finish(c, {call_result::outcome::timeout, 0, {}, "timeout"}, false, conn);
                         if (ec)
                           return self->finish(c, {call_result::outcome::unavailable, 0, {}, "read: " + ec.message()}, false, conn);
                         call_result r;
                         r.status = static_cast<int>(conn->response.result_int());
                         r.what = r.status >= 200 && r.status < 300 ? call_result::outcome::ok
                                                                    : call_result::outcome::bad_status;
                         r.body = std::move(conn->response.body());
                         if (r.what != call_result::outcome::ok) r.error = "status " + std::to_string(r.status);
                         // Pooled only when nothing is left over (a 1xx, or a body past
                         // its length, would answer the next call).
                         bool reusable = conn->response.keep_alive() && r.status >= 200 &&
                                         conn->buffer.size() == 0;
                         self->finish(c, std::move(r), reusable, conn);
                       });
    });
  };
  if (conn) return send(std::move(conn));
  conn = std::make_shared<connection>(strand_);
  conn->stream.expires_at(deadline);
  auto resolver = std::make_shared<tcp::resolver>(strand_);
  resolver->async_resolve(
      options_.host, port_text_,
      [self, c, conn, resolver, send](beast::error_code resolved, tcp::resolver::results_type results) {
        if (resolved) return self->finish(c, {call_result::outcome::unavailable, 0, {}, "resolve: " + resolved.message()}, false, conn);
        conn->stream.async_connect(results, [self, c, conn, send](beast::error_code ec, const tcp::endpoint&) {
          if (ec == beast::error::timeout)
            return self->finish(c, {call_result::outcome::timeout, 0, {}, "connect timeout"}, false, conn);
          if (ec) return self->finish(c, {call_result::outcome::unavailable, 0, {}, "connect: " + ec.message()}, false, conn);
          send(conn);
        });
      });
}

void backend_client::prune_idle(std::chrono::steady_clock::time_point now) {
  // Idle connections older than idle_ttl are closed (the backend may close them
  // any time after its own keep-alive timeout).
  std::erase_if(idle_, [&](const std::shared_ptr<connection>& idle) {
    if (now - idle->idle_since < options_.idle_ttl) return false;
    beast::error_code ignored;
    idle->stream.socket().close(ignored);
    return true;
  });
}

void backend_client::finish(const std::shared_ptr<call>& c, call_result result, bool reusable,
                            std::shared_ptr<connection> conn) {
  --running_;
  stats_.in_flight.store(running_, std::memory_order_relaxed);
  if (reusable && result.what != call_result::outcome::timeout) {
    conn->stream.expires_never();
    conn->idle_since = std::chrono::steady_clock::now();
    if (idle_.size() < options_.max_in_flight) idle_.push_back(std::move(conn));
  } else {
    beast::error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    conn->stream.close();
  }
  prune_idle(std::chrono::steady_clock::now());
  // A 4xx is the backend's answer; 5xx, timeouts and lost connections count
  // against it.
  bool failed = result.what == call_result::outcome::timeout ||
                result.what == call_result::outcome::unavailable ||
                (result.what == call_result::outcome::bad_status && result.status >= 500);
  record(failed);
  // Retried: an idempotent call whose connection failed (refused, reset, or a
  // pooled one the backend had closed). Not a timeout: the time is spent.
  bool retry = result.what == call_result::outcome::unavailable && c->idempotent &&
               c->attempts <= options_.retries && failures_in_a_row_ < options_.failure_threshold;
  if (retry) {
    if (running_ < options_.max_in_flight) {
      start(c);
    } else {
      queue_.push_front(c);
    }
    return run_next();
  }
  result.took = std::chrono::steady_clock::now() - c->started;
  stats_.latency.observe(result.took);
  if (result.what != call_result::outcome::ok) {
    stats_.failures.fetch_add(1, std::memory_order_relaxed);
    if (result.what == call_result::outcome::timeout) stats_.timeouts.fetch_add(1, std::memory_order_relaxed);
  }
  c->done(std::move(result));
  run_next();
}

}  // namespace roomcast::gateway
