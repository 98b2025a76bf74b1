// fanout: Phoenix protocol. N members join one topic of an echo:* channel (which
// broadcasts every pushed event to all members); M of them publish at --rate
// broadcasts/s in total for --duration-s. Every payload carries its send time,
// so each member measures end-to-end latency. Reports deliveries/s and p50/p99/p999.
#include "bench.hpp"

#include <cstdlib>
#include <stdexcept>

namespace roomcast::bench {

namespace {
std::int64_t sent_at(std::string_view frame) {
  auto pos = frame.find("\"t\":");
  if (pos == std::string_view::npos) return -1;
  return std::strtoll(frame.data() + pos + 4, nullptr, 10);
}
}  // namespace

json::object run_fanout(const options& o) {
  client_pool pool(o.threads);
  const std::size_t n = o.connections;
  const std::size_t m = std::max<std::size_t>(1, std::min(o.publishers, n));
  std::atomic<std::size_t> joined{0}, deliveries{0};
  std::vector<std::vector<std::int64_t>> latencies(n);  // one per connection: its strand only
  auto conns = pool.connect(o, n, [&](std::size_t i) {
    return [&, i](std::string_view data, bool) {
      auto event = phx_event(data);
      if (event == "fanout") {
        ++deliveries;
        if (auto t = sent_at(data); t > 0) latencies[i].push_back(now_us() - t);
      } else if (event == "phx_reply" && data.starts_with(R"(["1","1",)")) {
        ++joined;  // the join reply (pushes use refs from 2 on)
      }
    };
  });
  for (auto& c : conns) c->send(phx_frame("1", "1", o.topic, "phx_join", json::object()));
  if (!wait_until([&] { return joined == n; }, std::chrono::duration<double>(o.timeout_s)))
    throw std::runtime_error("fanout: not every member joined");

  std::string pad(o.payload_bytes, 'p');
  auto interval = std::chrono::duration<double>(1.0 / o.rate);
  auto start = clock::now();
  auto end = start + std::chrono::duration_cast<clock::duration>(
                         std::chrono::duration<double>(o.duration_s));
  std::size_t sent = 0;
  auto next = start;
  while (next < end) {
    std::this_thread::sleep_until(next);
    json::object payload{{"t", now_us()}, {"pad", pad}};
    conns[sent % m]->send(phx_frame("1", std::to_string(sent + 2), o.topic, "fanout", payload));
    ++sent;
    next += std::chrono::duration_cast<clock::duration>(interval);
  }
  double send_seconds = std::chrono::duration<double>(clock::now() - start).count();
  bool complete = wait_until([&] { return deliveries.load() >= sent * n; },
                             std::chrono::seconds(10));
  double seconds = std::chrono::duration<double>(clock::now() - start).count();
  std::vector<std::int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  json::object r;
  r["members"] = n;
  r["publishers"] = m;
  r["broadcasts"] = sent;
  r["target_rate"] = o.rate;
  r["achieved_rate"] = static_cast<double>(sent) / send_seconds;
  r["deliveries"] = deliveries.load();
  r["complete"] = complete;
  r["deliveries_per_s"] = static_cast<double>(deliveries.load()) / seconds;
  r["latency"] = percentiles(all);
  return r;
}

}  // namespace roomcast::bench
