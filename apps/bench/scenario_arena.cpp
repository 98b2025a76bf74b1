// arena: N bot players against roomcast-arena. Each bot joins arena:lobby,
// claims the seat it gets (so the lobby fills rooms of 8), then changes its
// input every half second while it receives the 20 Hz binary snapshots. Every
// bot measures the interval between snapshots; tick jitter is how far an
// interval is from the tick period (--tick-ms). Reports rooms, snapshots/s per
// bot, jitter p50/p99/p999 and ticks missed (gaps in the tick numbers).
#include "bench.hpp"

#include <boost/json/parse.hpp>

#include <cmath>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace roomcast::bench {

namespace {

struct bot {
  std::string topic;
  std::string token;
  bool seated = false;
  std::int64_t last_us = 0;   // arrival of the previous snapshot
  std::uint32_t last_tick = 0;
  std::uint64_t snapshots = 0, missed = 0;
  std::vector<std::int64_t> jitter_us;
};

/// The tick number of a v2 binary broadcast frame whose payload is a snapshot.
std::optional<std::uint32_t> tick_of(std::string_view frame) {
  // kind (2), topic size, event size, topic, event, payload.
  if (frame.size() < 3 || static_cast<unsigned char>(frame[0]) != 2) return std::nullopt;
  std::size_t at = 3 + static_cast<unsigned char>(frame[1]) + static_cast<unsigned char>(frame[2]);
  if (frame.size() < at + 4) return std::nullopt;
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(frame[at + i])); };
  return b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24);
}

}  // namespace

json::object run_arena(const options& o) {
  client_pool pool(o.threads);
  const std::size_t n = o.connections;
  const std::int64_t tick_us = static_cast<std::int64_t>(o.tick_ms * 1000);
  std::vector<bot> bots(n);  // bot i: touched only on connection i's strand, then after the run
  std::atomic<std::size_t> reserved{0}, seated{0}, refused{0};
  std::atomic<bool> measuring{false};
  std::vector<std::shared_ptr<ws_conn>> conns;
  conns = pool.connect(o, n, [&](std::size_t i) {
    return [&, i](std::string_view data, bool binary) {
      auto& b = bots[i];
      if (binary) {
        auto tick = tick_of(data);
        if (!tick || !measuring) return;
        auto now = now_us();
        if (b.last_us != 0) {
          b.jitter_us.push_back(std::abs(now - b.last_us - tick_us));
          if (*tick > b.last_tick + 1) b.missed += *tick - b.last_tick - 1;
        }
        b.last_us = now;
        b.last_tick = *tick;
        ++b.snapshots;
        return;
      }
      if (phx_event(data) != "phx_reply") return;
      auto reply = boost::json::parse(data).as_array();
      const auto& body = reply.at(4).as_object();
      if (body.at("status").as_string() != "ok") {
        ++refused;  // reported by the main thread (a throw here would end the I/O thread)
        return;
      }
      if (reply.at(1).as_string() == "1") {  // the lobby's answer: claim the seat
        const auto& r = body.at("response").as_object();
        b.topic = std::string(r.at("topic").as_string());
        b.token = std::string(r.at("seat_token").as_string());
        ++reserved;
        conns[i]->send(phx_frame("2", "2", b.topic, "phx_join", json::object{{"seat_token", b.token}}));
      } else if (reply.at(1).as_string() == "2") {
        b.seated = true;
        ++seated;
      }
    };
  });
  // One lobby join at a time keeps the room assignment in connection order.
  for (auto& c : conns) c->send(phx_frame("1", "1", "arena:lobby", "phx_join", json::object()));
  if (!wait_until([&] { return seated == n || refused > 0; },
                  std::chrono::duration<double>(o.timeout_s)) ||
      refused > 0)
    throw std::runtime_error("arena: not every bot got a seat (" + std::to_string(refused.load()) +
                             " joins refused)");

  measuring = true;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> axis(-1, 1);
  auto start = clock::now();
  auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.duration_s));
  std::uint64_t ref = 3;
  while (clock::now() < end) {
    for (std::size_t i = 0; i < n; ++i)
      conns[i]->send(phx_frame("2", std::to_string(ref++), bots[i].topic, "input",
                               json::object{{"dx", axis(random)}, {"dy", axis(random)}}));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  measuring = false;
  double seconds = std::chrono::duration<double>(clock::now() - start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // strands finish their last frame

  std::set<std::string> rooms;
  std::vector<std::int64_t> jitter;
  std::uint64_t snapshots = 0, missed = 0;
  for (auto& b : bots) {
    rooms.insert(b.topic);
    snapshots += b.snapshots;
    missed += b.missed;
    jitter.insert(jitter.end(), b.jitter_us.begin(), b.jitter_us.end());
  }
  for (auto& c : conns) c->close();
  json::object r;
  r["players"] = n;
  r["rooms"] = rooms.size();
  r["tick_ms"] = o.tick_ms;
  r["snapshots_per_bot_per_s"] = static_cast<double>(snapshots) / static_cast<double>(n) / seconds;
  r["ticks_missed"] = missed;
  r["jitter"] = percentiles(jitter);
  return r;
}

}  // namespace roomcast::bench
