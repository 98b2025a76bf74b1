// durable: Phoenix protocol against a server whose --topic pattern is durable
// (roomcast --durable 'echo:*'). Each of N connections joins its own topic
// (TOPIC:i, one room each) and keeps --window pushes in flight: a push is
// acknowledged only after its group commit, so this measures acknowledged
// durable messages/s and the acknowledgement latency (push sent -> reply read).
#include "bench.hpp"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace roomcast::bench {

namespace {

/// The ref (2nd element) of a frame that starts ["1","REF",...
std::string_view frame_ref(std::string_view frame) {
  constexpr std::string_view head = R"(["1",")";
  if (!frame.starts_with(head)) return {};
  auto rest = frame.substr(head.size());
  return rest.substr(0, rest.find('"'));
}

struct pusher {
  std::mutex mutex;  // its strand and the main thread (first window, drain)
  std::shared_ptr<ws_conn> conn;
  std::string topic;
  std::uint64_t next_ref = 2;  // 1 is the join
  std::unordered_map<std::uint64_t, std::int64_t> sent_at;  // ref -> send time
  std::vector<std::int64_t> latencies_us;
  std::size_t acked = 0, failed = 0;
  bool joined = false;
};

}  // namespace

json::object run_durable(const options& o) {
  client_pool pool(o.threads);
  const std::size_t n = o.connections;
  std::vector<pusher> pushers(n);
  std::atomic<std::size_t> joined{0}, acked{0}, failed{0};
  std::atomic<bool> sending{false};
  std::string pad(o.payload_bytes, 'p');
  // Called with p.mutex held.
  auto push_one = [&](pusher& p) {
    auto ref = p.next_ref++;
    p.sent_at[ref] = now_us();
    p.conn->send(phx_frame("1", std::to_string(ref), p.topic, "msg", json::object{{"pad", pad}}));
  };
  auto conns = pool.connect(o, n, [&](std::size_t i) {
    return [&, i](std::string_view data, bool) {
      auto& p = pushers[i];
      if (phx_event(data) != "phx_reply") return;  // the broadcast of its own push
      std::lock_guard lock(p.mutex);
      auto ref_text = frame_ref(data);
      std::uint64_t ref = std::strtoull(std::string(ref_text).c_str(), nullptr, 10);
      if (ref == 1) {
        p.joined = true;
        ++joined;
        return;
      }
      auto it = p.sent_at.find(ref);
      if (it == p.sent_at.end()) return;
      bool ok = data.find(R"("status":"ok")") != std::string_view::npos;
      if (ok) {
        p.latencies_us.push_back(now_us() - it->second);
        ++p.acked;
        ++acked;
      } else {
        ++p.failed;
        ++failed;
      }
      p.sent_at.erase(it);
      if (sending) push_one(p);  // keep the window full
    };
  });
  for (std::size_t i = 0; i < n; ++i) {
    pushers[i].conn = conns[i];
    pushers[i].topic = o.topic + ":" + std::to_string(i);
    conns[i]->send(phx_frame("1", "1", pushers[i].topic, "phx_join", json::object()));
  }
  if (!wait_until([&] { return joined == n; }, std::chrono::duration<double>(o.timeout_s)))
    throw std::runtime_error("durable: not every connection joined");

  sending = true;
  auto start = clock::now();
  for (auto& p : pushers) {
    std::lock_guard lock(p.mutex);
    for (std::size_t w = 0; w < o.window; ++w) push_one(p);
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  sending = false;
  auto measured = std::chrono::duration<double>(clock::now() - start).count();
  auto acked_in_window = acked.load();
  // Drain what is in flight, bounded, so every connection can be read safely.
  wait_until([&] {
    std::size_t outstanding = 0;
    for (auto& p : pushers) {
      std::lock_guard lock(p.mutex);
      outstanding += p.sent_at.size();
    }
    return outstanding == 0;
  }, std::chrono::seconds(10));
  std::vector<std::int64_t> all;
  for (auto& p : pushers) {
    std::lock_guard lock(p.mutex);
    all.insert(all.end(), p.latencies_us.begin(), p.latencies_us.end());
  }
  json::object r;
  r["connections"] = n;
  r["window"] = o.window;
  r["payload_bytes"] = o.payload_bytes;
  r["acked"] = acked.load();
  r["failed"] = failed.load();
  r["acked_per_s"] = static_cast<double>(acked_in_window) / measured;
  r["ack_latency"] = percentiles(all);
  return r;
}

}  // namespace roomcast::bench
