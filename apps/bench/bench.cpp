#include "bench.hpp"

#include "protocol/codec.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <stdexcept>

namespace roomcast::bench {

client_pool::client_pool(unsigned threads) {
  work_.emplace(ioc_.get_executor());
  for (unsigned i = 0; i < std::max(1u, threads); ++i)
    threads_.emplace_back([this] { ioc_.run(); });
}

client_pool::~client_pool() {
  work_.reset();
  ioc_.stop();
  for (auto& t : threads_) t.join();
}

std::vector<std::shared_ptr<ws_conn>> client_pool::connect(
    const options& o, std::size_t n,
    const std::function<ws_conn::message_handler(std::size_t)>& handler, std::size_t in_flight) {
  // Shared with the callbacks, which may outlive this call when it throws.
  struct progress {
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t finished = 0;
    std::string failure;
  };
  auto p = std::make_shared<progress>();
  std::vector<std::shared_ptr<ws_conn>> conns(n);
  std::size_t started = 0;
  auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(o.timeout_s));
  std::unique_lock lock(p->mutex);
  while (p->finished < n) {
    while (started < n && started - p->finished < in_flight) {
      auto conn = make_ws_conn(ioc_);
      if (handler) conn->on_message(handler(started));
      conns[started++] = conn;
      // With several ports (the nodes of a cluster), connections take turns.
      auto port = o.ports.empty() ? o.port : o.ports[(started - 1) % o.ports.size()];
      conn->connect(o.host, port, o.path, [p](bool ok, const std::string& error) {
        std::lock_guard inner(p->mutex);
        if (!ok && p->failure.empty()) p->failure = error;
        ++p->finished;
        p->changed.notify_all();
      });
    }
    if (p->changed.wait_until(lock, deadline) == std::cv_status::timeout)
      throw std::runtime_error("timed out opening connections");
    if (!p->failure.empty()) throw std::runtime_error("connection failed: " + p->failure);
  }
  return conns;
}

bool wait_until(const std::function<bool()>& done, std::chrono::duration<double> timeout) {
  auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(timeout);
  while (!done()) {
    if (clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::string phx_frame(std::string_view join_ref, std::string_view ref, std::string_view topic,
                      std::string_view event, const json::value& payload) {
  auto ref_or_null = [](std::string_view r) {
    return r.empty() ? protocol::opt_ref{} : protocol::opt_ref(r);
  };
  return protocol::encode_text(ref_or_null(join_ref), ref_or_null(ref), topic, event, payload);
}

std::string_view phx_event(std::string_view frame) {
  // [jr, ref, "topic", "event", ...]: skip three top-level commas outside strings.
  int commas = 0;
  bool in_string = false;
  for (std::size_t i = 1; i < frame.size(); ++i) {
    char c = frame[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      if (commas == 3) {
        auto end = frame.find('"', i + 1);
        return end == std::string_view::npos ? std::string_view{} : frame.substr(i + 1, end - i - 1);
      }
      in_string = true;
    } else if (c == ',') {
      ++commas;
    }
  }
  return {};
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock::now().time_since_epoch())
      .count();
}

json::object percentiles(std::vector<std::int64_t>& samples) {
  json::object out;
  out["samples"] = samples.size();
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    auto idx = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
    return static_cast<double>(samples[idx]) / 1000.0;
  };
  out["p50_ms"] = at(0.50);
  out["p99_ms"] = at(0.99);
  out["p999_ms"] = at(0.999);
  out["max_ms"] = static_cast<double>(samples.back()) / 1000.0;
  return out;
}

long rss_kib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace roomcast::bench
