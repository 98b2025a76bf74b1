// idle: N connections that each joined a topic and then stay silent. Reports the
// server's resident memory per connection (VmRSS after minus before, over N),
// read from /proc/PID/status of --server-pid.
#include "bench.hpp"

#include <stdexcept>

namespace roomcast::bench {

json::object run_idle(const options& o) {
  if (o.server_pid <= 0) throw std::runtime_error("idle needs --server-pid");
  long before = rss_kib(o.server_pid);
  client_pool pool(o.threads);
  std::atomic<std::size_t> joined{0};
  auto conns = pool.connect(o, o.connections, [&](std::size_t) {
    return [&](std::string_view data, bool) {
      if (phx_event(data) == "phx_reply") ++joined;
    };
  });
  for (auto& c : conns) c->send(phx_frame("1", "1", o.topic, "phx_join", json::object()));
  bool all = wait_until([&] { return joined == conns.size(); },
                        std::chrono::duration<double>(o.timeout_s));
  // Let the server settle (buffers released after the burst; with --settle-s past
  // the server's --idle-park-ms, idle sockets parked), then measure.
  std::this_thread::sleep_for(std::chrono::duration<double>(o.settle_s));
  long after = rss_kib(o.server_pid);
  json::object r;
  r["connections"] = conns.size();
  r["all_joined"] = all;
  r["settle_s"] = o.settle_s;
  r["server_rss_before_kib"] = before;
  r["server_rss_after_kib"] = after;
  r["bytes_per_connection"] =
      static_cast<double>(after - before) * 1024.0 / static_cast<double>(conns.size());
  return r;
}

}  // namespace roomcast::bench
