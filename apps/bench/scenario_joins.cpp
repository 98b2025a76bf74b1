// joins: a join storm. N connected sockets all send phx_join at once (to one
// topic, echo:* by default); reports joins/s until every join was answered.
#include "bench.hpp"

namespace roomcast::bench {

json::object run_joins(const options& o) {
  client_pool pool(o.threads);
  std::atomic<std::size_t> ok{0}, failed{0};
  auto conns = pool.connect(o, o.connections, [&](std::size_t) {
    return [&](std::string_view data, bool) {
      if (phx_event(data) != "phx_reply") return;
      if (data.find(R"("status":"ok")") != std::string_view::npos) ++ok; else ++failed;
    };
  });
  auto t0 = now_us();
  for (auto& c : conns) c->send(phx_frame("1", "1", o.topic, "phx_join", json::object()));
  bool done = wait_until([&] { return ok + failed == conns.size(); },
                         std::chrono::duration<double>(o.timeout_s));
  double seconds = static_cast<double>(now_us() - t0) / 1e6;
  json::object r;
  r["joins"] = conns.size();
  r["completed"] = done;
  r["failed"] = failed.load();
  r["seconds"] = seconds;
  r["joins_per_s"] = static_cast<double>(ok.load()) / seconds;
  return r;
}

}  // namespace roomcast::bench
