// presence: N members join one presence room at once (a join storm on the
// built-in presence:* channel). Every member must learn of every member (through
// presence_state or a presence_diff): N x N metas in all. Reports how long until
// every join was answered and until all N x N metas arrived, and how many frames
// carried them: with coalescing far fewer than N x N.
#include "bench.hpp"

namespace roomcast::bench {

json::object run_presence(const options& o) {
  client_pool pool(o.threads);
  std::atomic<std::size_t> joined{0}, frames{0}, bytes{0}, metas{0};
  std::atomic<std::int64_t> last_us{0};
  auto conns = pool.connect(o, o.connections, [&](std::size_t) {
    return [&](std::string_view data, bool) {
      auto event = phx_event(data);
      if (event == "phx_reply") {
        ++joined;
      } else if (event == "presence_state" || event == "presence_diff") {
        ++frames;
        bytes += data.size();
        std::size_t found = 0;
        for (auto pos = data.find("\"phx_ref\""); pos != std::string_view::npos;
             pos = data.find("\"phx_ref\"", pos + 9))
          ++found;
        metas += found;
        last_us = now_us();
      }
    };
  });
  auto t0 = now_us();
  for (std::size_t i = 0; i < conns.size(); ++i)
    conns[i]->send(phx_frame("1", "1", o.topic, "phx_join",
                             json::object{{"user", "user" + std::to_string(i)}, {"device", "bench"}}));
  bool all_joined = wait_until([&] { return joined == conns.size(); },
                               std::chrono::duration<double>(o.timeout_s));
  auto joins_done = now_us();
  const std::size_t expected = conns.size() * conns.size();
  bool complete = wait_until([&] { return metas.load() >= expected; },
                             std::chrono::duration<double>(o.timeout_s));
  json::object r;
  r["members"] = conns.size();
  r["all_joined"] = all_joined;
  r["joins_answered_s"] = static_cast<double>(joins_done - t0) / 1e6;
  r["complete"] = complete;
  r["presence_settled_s"] = static_cast<double>(last_us.load() - t0) / 1e6;
  r["metas_delivered"] = metas.load();
  r["metas_expected"] = expected;
  r["presence_frames"] = frames.load();
  r["presence_bytes"] = bytes.load();
  r["frames_per_member"] = static_cast<double>(frames.load()) / static_cast<double>(conns.size());
  return r;
}

}  // namespace roomcast::bench
