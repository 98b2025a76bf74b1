#include "net/session_registry.hpp"

#include <vector>

namespace roomcast::net {

void session_registry::add(const std::shared_ptr<ws_sink>& session,
                           const std::string& remote_address) {
  bool late = false;
  std::uint16_t code = 0;
  std::string reason;
  {
    std::lock_guard lock(mutex_);
    live_.emplace(session.get(), entry{session, remote_address});
    ++per_address_[remote_address];
    late = closing_;
    code = close_code_;
    reason = close_reason_;
  }
  if (late) session->close(code, reason);  // upgraded while the server was stopping
}

void session_registry::remove(const ws_sink* session) {
  std::lock_guard lock(mutex_);
  auto it = live_.find(session);
  if (it == live_.end()) return;
  if (auto a = per_address_.find(it->second.remote_address);
      a != per_address_.end() && --a->second == 0)
    per_address_.erase(a);
  live_.erase(it);
  if (live_.empty()) empty_.notify_all();
}

std::size_t session_registry::count_from(const std::string& remote_address) const {
  std::lock_guard lock(mutex_);
  auto it = per_address_.find(remote_address);
  return it == per_address_.end() ? 0 : it->second;
}

std::vector<std::shared_ptr<ws_sink>> session_registry::snapshot() const {
  std::vector<std::shared_ptr<ws_sink>> sessions;
  std::lock_guard lock(mutex_);
  sessions.reserve(live_.size());
  for (const auto& [ptr, e] : live_)
    if (auto s = e.session.lock()) sessions.push_back(std::move(s));
  return sessions;
}

// Both act outside the lock: a session may unregister itself meanwhile.
void session_registry::close_all(std::uint16_t code, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    close_code_ = code;
    close_reason_ = reason;
  }
  for (auto& s : snapshot()) s->close(code, reason);
}

std::size_t session_registry::close_some(std::size_t n, std::uint16_t code,
                                         const std::string& reason) {
  std::vector<std::shared_ptr<ws_sink>> chosen;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    close_code_ = code;
    close_reason_ = reason;
    for (auto& [ptr, e] : live_) {
      if (chosen.size() == n) break;
      if (e.asked_to_close) continue;
      if (auto s = e.session.lock()) {
        e.asked_to_close = true;
        chosen.push_back(std::move(s));
      }
    }
  }
  for (auto& s : chosen) s->close(code, reason);
  return chosen.size();
}

void session_registry::abort_all() {
  for (auto& s : snapshot()) s->abort();
}

void session_registry::sweep_idle() {
  for (auto& s : snapshot()) s->sweep_idle();
}

bool session_registry::wait_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return empty_.wait_for(lock, timeout, [this] { return live_.empty(); });
}

std::size_t session_registry::size() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

}  // namespace roomcast::net
