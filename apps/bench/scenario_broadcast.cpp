// broadcast: raw endpoint (e.g. example-broadcast, which sends every message to
// every client). N clients each send one message per round; a round ends when
// all N x N deliveries arrived. Reports deliveries/s over --rounds rounds.
#include "bench.hpp"

#include <stdexcept>

namespace roomcast::bench {

json::object run_broadcast(const options& o) {
  client_pool pool(o.threads);
  const std::size_t n = o.connections;
  std::vector<std::atomic<bool>> ready(n);
  std::atomic<std::size_t> deliveries{0};
  auto conns = pool.connect(o, n, [&](std::size_t i) {
    return [&, i](std::string_view data, bool) {
      if (data.empty()) return;
      if (data[0] == 'r') ++deliveries;  // a round message
      else if (data == "w" + std::to_string(i)) ready[i] = true;  // own warm-up came back
    };
  });
  // Warm-up: a client that received its own message is surely subscribed.
  for (std::size_t i = 0; i < n; ++i) conns[i]->send("w" + std::to_string(i));
  if (!wait_until([&] {
        for (auto& r : ready) if (!r) return false;
        return true;
      }, std::chrono::duration<double>(o.timeout_s)))
    throw std::runtime_error("broadcast warm-up timed out: is every client subscribed?");

  std::string message = "r" + std::string(o.payload_bytes > 1 ? o.payload_bytes - 1 : 0, 'b');
  auto t0 = now_us();
  std::size_t rounds_done = 0;
  for (std::size_t round = 1; round <= o.rounds; ++round) {
    for (auto& c : conns) c->send(message);
    if (!wait_until([&] { return deliveries.load() >= round * n * n; },
                    std::chrono::duration<double>(o.timeout_s)))
      break;
    rounds_done = round;
  }
  double seconds = static_cast<double>(now_us() - t0) / 1e6;
  json::object r;
  r["connections"] = n;
  r["rounds"] = rounds_done;
  r["payload_bytes"] = o.payload_bytes;
  r["seconds"] = seconds;
  r["deliveries"] = deliveries.load();
  r["deliveries_per_s"] = static_cast<double>(rounds_done * n * n) / seconds;
  return r;
}

}  // namespace roomcast::bench
