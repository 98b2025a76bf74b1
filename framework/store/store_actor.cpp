#include "store/store_actor.hpp"

#include "util/log.hpp"

#include <sqlite3.h>

#include <vector>

namespace roomcast::store {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// Errors after which the connection is reopened rather than reused.
bool needs_reopen(int code) {
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB || code == SQLITE_IOERR ||
         code == SQLITE_CANTOPEN;
}

class store_actor : public caf::event_based_actor {
 public:
  store_actor(caf::actor_config& cfg, std::string path, store_options options,
              std::shared_ptr<store_health> health, bool open_now)
      : caf::event_based_actor(cfg),
        options_(options),
        store_(std::move(path), std::move(options)),
        health_(std::move(health)),
        open_now_(open_now) {}

  const char* name() const override { return "roomcast.store"; }

  caf::behavior make_behavior() override {
    if (open_now_) ensure_open();
    if (options_.sweep_interval.count() > 0)
      delayed_send(this, options_.sweep_interval, sweep_atom::value);
    return {
        [this](append_atom, append_group& group) {
          auto promise = make_response_promise<std::uint64_t>();
          pending_records_ += group.records.size();
          pending_.push_back(std::move(group));
          promises_.push_back(std::move(promise));
          if (pending_records_ >= options_.max_batch) {
            commit();
          } else if (!commit_scheduled_) {
            // Queued behind what is already in the mailbox: every append waiting
            // there joins this transaction.
            commit_scheduled_ = true;
            send(this, commit_atom::value);
          }
        },
        [this](commit_atom) {
          commit_scheduled_ = false;
          commit();
        },
        [this](read_atom, const std::string& topic, std::uint64_t since, std::uint64_t limit,
               bool latest) -> caf::result<history_page> {
          commit();  // a read sees every append that reached the store before it
          if (!ensure_open()) return caf::make_error(caf::sec::runtime_error, unavailable);
          try {
            // Health follows writes only: a read can succeed on a full disk.
            return store_.read(topic, since, static_cast<std::size_t>(limit), latest);
          } catch (const std::exception& e) {
            // A failed read says nothing of writes (health follows writes only),
            // but a corrupt or vanished file is reopened.
            log::warn("store", "read failed", {{"topic", topic}, {"error", e.what()}});
            if (auto* sq = dynamic_cast<const sqlite_error*>(&e); !sq || needs_reopen(sq->code()))
              store_.close();
            return caf::make_error(caf::sec::runtime_error, unavailable);
          }
        },
        [this](sweep_atom) {
          delayed_send(this, options_.sweep_interval, sweep_atom::value);
          if (!store_.is_open()) return;
          commit();
          try {
            if (auto n = store_.sweep(now_ms()); n > 0)
              log::debug("store", "retention sweep", {{"deleted", std::to_string(n)}});
          } catch (const std::exception& e) {
            failed("sweep", e);
          }
        },
        [this](probe_atom) {
          probe_scheduled_ = false;
          if (health_->healthy.load()) return;
          if (ensure_open()) {
            try {
              store_.probe();
              set_healthy(true);
              log::info("store", "storage available again", {{"path", store_.path()}});
              return;
            } catch (const std::exception& e) {
              failed("probe", e);
            }
          }
          schedule_probe();
        },
        [this](actors::stop_atom) {
          commit();
          quit();
        },
    };
  }

  void on_exit() override {
    commit();
    if (store_.is_open())
      log::info("store", "closed",
                {{"commits", std::to_string(health_->commits.load())},
                 {"messages", std::to_string(health_->committed_messages.load())}});
    store_.close();
  }

 private:
  bool ensure_open() {
    if (store_.is_open()) return true;
    auto now = std::chrono::steady_clock::now();
    if (last_open_attempt_ && now - *last_open_attempt_ < std::chrono::seconds(1)) return false;
    last_open_attempt_ = now;
    try {
      store_.open();
      log::info("store", "opened", {{"path", store_.path()}});
      set_healthy(true);
      return true;
    } catch (const std::exception& e) {
      failed("open", e);
      return false;
    }
  }

  void commit() {
    if (pending_.empty()) return;
    auto groups = std::exchange(pending_, {});
    auto promises = std::exchange(promises_, {});
    auto count = std::exchange(pending_records_, 0);
    if (ensure_open()) {
      try {
        auto started = std::chrono::steady_clock::now();
        auto firsts = store_.append(groups, now_ms());
        health_->commit_latency.observe(std::chrono::steady_clock::now() - started);
        for (std::size_t i = 0; i < promises.size(); ++i) promises[i].deliver(firsts[i]);
        health_->commits.fetch_add(1, std::memory_order_relaxed);
        health_->committed_messages.fetch_add(count, std::memory_order_relaxed);
        set_healthy(true);
        return;
      } catch (const std::exception& e) {
        failed("commit", e);
      }
    }
    health_->failed_messages.fetch_add(count, std::memory_order_relaxed);
    for (auto& promise : promises)
      promise.deliver(caf::make_error(caf::sec::runtime_error, unavailable));
  }

  void failed(const char* what, const std::exception& e) {
    bool was_healthy = health_->healthy.exchange(false);
    // Logged once per episode: a full disk fails every commit.
    if (was_healthy)
      log::error("store", "storage unavailable",
                 {{"operation", what}, {"path", store_.path()}, {"error", e.what()}});
    if (auto* sq = dynamic_cast<const sqlite_error*>(&e); !sq || needs_reopen(sq->code()))
      store_.close();
    schedule_probe();
  }

  /// While unhealthy, a probe every second finds out when storage is back.
  void schedule_probe() {
    if (probe_scheduled_) return;
    probe_scheduled_ = true;
    delayed_send(this, std::chrono::seconds(1), probe_atom::value);
  }

  void set_healthy(bool healthy) { health_->healthy.store(healthy); }

  store_options options_;
  message_store store_;
  std::shared_ptr<store_health> health_;
  bool open_now_;
  std::vector<append_group> pending_;
  std::vector<caf::typed_response_promise<std::uint64_t>> promises_;
  std::size_t pending_records_ = 0;
  bool commit_scheduled_ = false;
  bool probe_scheduled_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_open_attempt_;
};

}  // namespace

caf::actor spawn_store(caf::actor_system& system, std::string path, store_options options,
                       std::shared_ptr<store_health> health, bool open_now) {
  return system.spawn<store_actor, caf::detached>(std::move(path), std::move(options),
                                                  std::move(health), open_now);
}

}  // namespace roomcast::store
