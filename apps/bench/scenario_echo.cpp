// echo: raw endpoint (e.g. example-echo). N connections each send a message and
// send the next when its echo arrives, for --duration-s; reports messages/s.
#include "bench.hpp"

namespace roomcast::bench {

json::object run_echo(const options& o) {
  client_pool pool(o.threads);
  std::atomic<std::size_t> echoes{0};
  std::atomic<bool> running{true};
  std::string payload(o.payload_bytes, 'e');
  std::vector<std::shared_ptr<ws_conn>> conns;
  std::vector<std::weak_ptr<ws_conn>> weak(o.connections);
  conns = pool.connect(o, o.connections, [&](std::size_t i) {
    return [&, i](std::string_view, bool) {
      ++echoes;
      if (!running) return;
      if (auto c = weak[i].lock()) c->send(payload);
    };
  });
  for (std::size_t i = 0; i < conns.size(); ++i) weak[i] = conns[i];
  auto t0 = now_us();
  for (auto& c : conns) c->send(payload);
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  running = false;
  double seconds = static_cast<double>(now_us() - t0) / 1e6;
  std::size_t total = echoes.load();
  json::object r;
  r["connections"] = conns.size();
  r["payload_bytes"] = o.payload_bytes;
  r["seconds"] = seconds;
  r["messages"] = total;
  r["messages_per_s"] = static_cast<double>(total) / seconds;
  return r;
}

}  // namespace roomcast::bench
