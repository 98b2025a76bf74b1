#include "gateway/backend_metrics.hpp"

#include "metrics/exposition.hpp"

namespace roomcast::gateway {

std::string render_backend_metrics(const std::vector<std::shared_ptr<backend_client>>& backends) {
  if (backends.empty()) return {};
  metrics::exposition out;
  auto each = [&](std::string_view name, std::string_view type, std::string_view help,
                  auto value) {
    out.family(name, type, help);
    for (const auto& b : backends)
      out.sample(name, value(b->stats()), {{"backend", b->options().name}});
  };
  auto load = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  each("roomcast_backend_calls_total", "counter", "Calls to the backend (answered, failed or refused).",
       [&](const backend_stats& s) { return load(s.calls); });
  each("roomcast_backend_failures_total", "counter",
       "Calls that got no 2xx answer: timeouts, lost connections, other statuses, refusals.",
       [&](const backend_stats& s) { return load(s.failures); });
  each("roomcast_backend_timeouts_total", "counter", "Calls that timed out.",
       [&](const backend_stats& s) { return load(s.timeouts); });
  each("roomcast_backend_rejected_total", "counter",
       "Calls never sent: the circuit was open or the queue full.",
       [&](const backend_stats& s) { return load(s.rejected); });
  each("roomcast_backend_in_flight", "gauge", "Calls waiting for the backend now.",
       [&](const backend_stats& s) { return load(s.in_flight); });
  each("roomcast_backend_circuit_open", "gauge", "1 while the backend's circuit is open.",
       [&](const backend_stats& s) {
         return static_cast<std::uint64_t>(s.circuit_open.load(std::memory_order_relaxed));
       });
  out.family("roomcast_backend_latency_seconds", "histogram",
             "Time from a call's start to its answer (queueing and retries included).");
  for (const auto& b : backends)
    out.histogram_samples("roomcast_backend_latency_seconds", b->stats().latency,
                          {{"backend", b->options().name}});
  return out.text();
}

}  // namespace roomcast::gateway
