#pragma once
// Which chat rooms exist and how many distinct users are in each: written by the
// rooms (each from its own actor), read by GET /api/rooms on I/O threads.

#include <boost/json/array.hpp>

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace chat {

class room_index {
 public:
  /// Records `online` distinct users in `room`. A room nobody is in leaves the
  /// list (so the list cannot grow without bound); "lobby" is always listed.
  void set_online(const std::string& room, std::size_t online) {
    std::lock_guard lock(mutex_);
    if (online == 0)
      online_.erase(room);
    else
      online_[room] = online;
  }

  /// [{"name", "online"}], by name; "lobby" always first.
  [[nodiscard]] boost::json::array list() const {
    std::lock_guard lock(mutex_);
    boost::json::array rooms;
    auto lobby = online_.find("lobby");
    rooms.push_back({{"name", "lobby"}, {"online", lobby == online_.end() ? 0 : lobby->second}});
    for (const auto& [name, online] : online_)
      if (name != "lobby") rooms.push_back({{"name", name}, {"online", online}});
    return rooms;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::size_t> online_;  // guarded by mutex_
};

}  // namespace chat
