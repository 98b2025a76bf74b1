#pragma once
// The gateway to other services (docs/gateway.md): proxy channels, whose joins
// and events a backend decides over HTTP, and a connect proxy, which lets a
// backend accept a socket and give it its user id and assigns.
//
//   server.proxy_channel("orders:*", {.url = "http://127.0.0.1:9000/roomcast"});
//   server.connect_proxy({.url = "http://127.0.0.1:9000/roomcast"});
//
// Calls go through an asynchronous, pooled HTTP/1.1 client on the server's I/O
// threads (keep-alive, a timeout per call, bounded concurrency, a circuit breaker).

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace roomcast {

struct backend_settings {
  /// "http://HOST:PORT/BASE": joins go to BASE/join, events to BASE/event, the
  /// connect proxy to BASE/connect.
  std::string url;
  /// Per call, connecting included; then "backend_timeout". Keep it below the
  /// server's join_timeout (5 s), or a slow join answers "join timeout" first.
  std::chrono::milliseconds timeout{3'000};
  std::size_t max_in_flight = 32;            ///< calls at a time; the rest wait
  std::size_t max_queued = 1'024;            ///< waiting calls; beyond: "backend_unavailable"
  std::size_t failure_threshold = 5;         ///< failures in a row that open the circuit
  std::chrono::milliseconds open_for{2'000};  ///< how long an open circuit fails at once
};

/// The gateway as configuration gives it (--proxy, --connect-proxy).
struct gateway_options {
  struct proxy {
    std::string pattern;  ///< topics it serves, like server::channel's
    backend_settings backend;
  };
  std::vector<proxy> proxies;
  backend_settings connect;  ///< url empty: no connect proxy
  std::vector<std::string> remote_channels;  ///< server::remote_channel patterns (--remote-channel)
};

}  // namespace roomcast
