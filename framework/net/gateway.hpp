#pragma once
// What the socket layer asks of the server: answer an HTTP request, or decide
// whether (and to whom) a WebSocket upgrade is handed.

#include "net/frame.hpp"
#include "roomcast/http.hpp"
#include "util/counters.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

namespace roomcast::net {

struct upgrade_plan {
  /// Set when the upgrade is refused (404 unknown path, 403 refused, ...).
  std::optional<http_response> refusal;
  /// Called once the handshake succeeded: connects the socket to its actor.
  std::function<std::shared_ptr<ws_receiver>(std::shared_ptr<ws_sink>)> attach;
};

struct socket_limits {
  std::size_t max_frame_bytes = 1 << 20;
  std::size_t max_http_body_bytes = 1 << 20;
  std::chrono::milliseconds handshake_timeout{10'000};
  std::size_t outbound_budget_bytes = 1 << 20;  ///< unsent bytes before policies apply
  std::size_t read_window = 32;                 ///< inbound frames not yet acked
  std::shared_ptr<util::counters> counters = std::make_shared<util::counters>();
};

/// Called exactly once with the answer, possibly later and from another thread.
using http_responder = std::function<void(http_response)>;

class gateway {
 public:
  virtual ~gateway() = default;
  virtual void handle_http(const http_request& request, http_responder respond) = 0;
  /// Decides an upgrade; `decide` is called exactly once, possibly later and
  /// from another thread (a connect proxy asks a backend first).
  virtual void plan_upgrade(const http_request& request,
                            std::function<void(upgrade_plan)> decide) = 0;
  [[nodiscard]] virtual const socket_limits& limits() const = 0;
};

}  // namespace roomcast::net
