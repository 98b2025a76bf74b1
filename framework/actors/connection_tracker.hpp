#pragma once
// Every live connection actor of a server, so that stop() can make them all
// quit even when their sockets could not be closed in time (stuck I/O threads):
// ~actor_system waits for every actor, so every actor needs a guaranteed exit.

#include <caf/all.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace roomcast::actors {

class connection_tracker : public std::enable_shared_from_this<connection_tracker> {
 public:
  /// `user_id`: what on_connect identified the socket as ("" if nothing).
  void add(const caf::actor& connection, const std::string& user_id) {
    {
      std::lock_guard lock(mutex_);
      live_.emplace(connection.id(),
                    entry{caf::actor_cast<caf::weak_actor_ptr>(connection), user_id});
    }
    // Runs when the actor terminates, on the thread that terminates it.
    connection->attach_functor([tracker = shared_from_this(), id = connection.id()] {
      std::lock_guard lock(tracker->mutex_);
      tracker->live_.erase(id);
    });
  }

  void kill_all() {
    std::vector<caf::actor> alive;
    {
      std::lock_guard lock(mutex_);
      for (auto& [id, e] : live_)
        if (auto strong = e.actor.lock()) alive.push_back(caf::actor_cast<caf::actor>(strong));
    }
    for (auto& a : alive) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  /// The live connections of `user_id` (a linear scan: an operator's action, not a hot path).
  [[nodiscard]] std::vector<caf::actor> of_user(const std::string& user_id) {
    std::vector<caf::actor> found;
    std::lock_guard lock(mutex_);
    for (auto& [id, e] : live_)
      if (e.user_id == user_id)
        if (auto strong = e.actor.lock()) found.push_back(caf::actor_cast<caf::actor>(strong));
    return found;
  }

 private:
  struct entry {
    caf::weak_actor_ptr actor;
    std::string user_id;
  };
  std::mutex mutex_;
  std::unordered_map<caf::actor_id, entry> live_;
};

}  // namespace roomcast::actors
