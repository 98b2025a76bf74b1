#pragma once
// Every live WebSocket session of a server, so that shutdown can close them all
// (1001) and wait, bounded, until they are gone.

#include "net/frame.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace roomcast::net {

class session_registry {
 public:
  void add(const std::shared_ptr<ws_sink>& session, const std::string& remote_address);
  void remove(const ws_sink* session);
  /// Live sessions from `remote_address`.
  [[nodiscard]] std::size_t count_from(const std::string& remote_address) const;
  void close_all(std::uint16_t code, const std::string& reason);
  /// Drain: closes up to `n` sessions not asked to close yet; returns how many
  /// it asked. Sessions upgraded from now on are closed at once with `code`.
  std::size_t close_some(std::size_t n, std::uint16_t code, const std::string& reason);
  void abort_all();
  /// The idle sweep: every session may park if it had no traffic since the last one.
  void sweep_idle();
  /// True when every session is gone before `timeout`.
  bool wait_empty(std::chrono::milliseconds timeout);
  [[nodiscard]] std::size_t size() const;

 private:
  [[nodiscard]] std::vector<std::shared_ptr<ws_sink>> snapshot() const;

  mutable std::mutex mutex_;
  std::condition_variable empty_;
  struct entry {
    std::weak_ptr<ws_sink> session;
    std::string remote_address;
    bool asked_to_close = false;
  };
  std::unordered_map<const ws_sink*, entry> live_;
  std::unordered_map<std::string, std::size_t> per_address_;
  bool closing_ = false;  // close_all ran: late arrivals are closed on add()
  std::uint16_t close_code_ = 1001;
  std::string close_reason_;
};

}  // namespace roomcast::net
