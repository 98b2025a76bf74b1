#pragma once
// Every live connection actor of a server, so that stop() can make them all
// quit even when their sockets could not be closed in time (stuck I/O threads):
// ~actor_system waits for every actor, so every actor needs a guaranteed exit.

#include <caf/all.hpp>

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace roomcast::actors {

class connection_tracker : public std::enable_shared_from_this<connection_tracker> {
 public:
  void add(const caf::actor& connection) {
    {
      std::lock_guard lock(mutex_);
      live_.emplace(connection.id(), caf::actor_cast<caf::weak_actor_ptr>(connection));
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
      for (auto& [id, weak] : live_)
        if (auto strong = weak.lock()) alive.push_back(caf::actor_cast<caf::actor>(strong));
    }
    for (auto& a : alive) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<caf::actor_id, caf::weak_actor_ptr> live_;
};

}  // namespace roomcast::actors
