// store: the message store alone, in this process, on a real SQLite file in a
// fresh temporary directory (no sockets, no actors): --rounds group commits,
// each holding --window messages for each of -n topics. Shows what the store
// sustains when nothing else competes for the CPU; the durable scenario shows
// the whole server.
#include "bench.hpp"
#include "store/message_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace roomcast::bench {

json::object run_store(const options& o) {
  std::string dir = (std::filesystem::temp_directory_path() / "roomcast-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) throw std::runtime_error("store: mkdtemp failed");
  struct cleanup {
    std::string path;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_dir{dir};
  store_options opts;
  opts.sync = o.store_sync_full ? store_sync::full : store_sync::normal;
  store::message_store db(dir + "/bench.db", opts);
  db.open();
  std::string body = "{\"pad\":\"" + std::string(o.payload_bytes, 'p') + "\"}";
  std::vector<store::append_group> groups;
  for (std::size_t t = 0; t < o.connections; ++t) {
    store::append_group g{o.topic + ":" + std::to_string(t), {}};
    for (std::size_t i = 0; i < o.window; ++i) g.records.push_back({"msg", body});
    groups.push_back(std::move(g));
  }
  std::vector<std::int64_t> commit_us;
  commit_us.reserve(o.rounds);
  auto start = clock::now();
  for (std::size_t r = 0; r < o.rounds; ++r) {
    auto t0 = now_us();
    db.append(groups, t0 / 1000);
    commit_us.push_back(now_us() - t0);
  }
  double seconds = std::chrono::duration<double>(clock::now() - start).count();
  auto messages = o.rounds * o.connections * o.window;
  json::object r;
  r["topics"] = o.connections;
  r["messages_per_topic_per_commit"] = o.window;
  r["commits"] = o.rounds;
  r["sync"] = o.store_sync_full ? "full" : "normal";
  r["messages_per_s"] = static_cast<double>(messages) / seconds;
  r["commit_latency"] = percentiles(commit_us);
  return r;
}

}  // namespace roomcast::bench
