#pragma once
// The durable-message store proper, synchronous and single-threaded: the store
// actor owns one and is the only code that touches the database. Every append
// batch is one transaction (group commit); sequence numbers are assigned here,
// per topic, and survive restarts and retention.

#include "roomcast/durability.hpp"
#include "store/sqlite.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roomcast::store {

/// A durable broadcast before it has a seq. `body` is a JSON object's text
/// without a "seq" member; the store adds it.
struct durable_record {
  std::string event;
  std::string body;
};

/// One room's broadcasts of one turn, appended in order.
struct append_group {
  std::string topic;
  std::vector<durable_record> records;
};

/// `body` (a JSON object's text) with "seq": seq as its first member.
[[nodiscard]] std::string with_seq(std::string_view body, std::uint64_t seq);

class message_store {
 public:
  /// Does not touch the file yet: open() does.
  message_store(std::string path, store_options options);
  ~message_store();
  message_store(const message_store&) = delete;
  message_store& operator=(const message_store&) = delete;

  /// Opens the file (creating it and its directory), sets WAL mode and migrates.
  /// Throws sqlite_error or std::runtime_error; the store stays closed then.
  void open();
  [[nodiscard]] bool is_open() const noexcept { return db_.has_value(); }
  void close() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Stores every group in one transaction and returns each group's first seq
  /// (a group's records get consecutive seqs). On an exception nothing was stored.
  std::vector<std::uint64_t> append(const std::vector<append_group>& groups,
                                    std::int64_t now_ms);

  /// Messages with seq > since, oldest first: the first `limit` of them
  /// (paging forward), or with `latest` the last `limit` (a replay that must
  /// run into live messages).
  [[nodiscard]] history_page read(const std::string& topic, std::uint64_t since,
                                  std::size_t limit, bool latest = false);

  /// A minimal write transaction: succeeds once storage takes writes again.
  void probe();

  /// Deletes messages older than their topic's max_age; returns how many.
  std::uint64_t sweep(std::int64_t now_ms);

  [[nodiscard]] const retention& retention_for(std::string_view topic) const;

 private:
  struct statements;
  struct topic_state {
    std::int64_t id = 0;
    std::uint64_t last_seq = 0;
  };
  /// The topic's row (cached); created when `create`, else nullptr if missing.
  topic_state* find(const std::string& topic, bool create);

  std::string path_;
  store_options options_;
  std::optional<database> db_;
  std::unique_ptr<statements> stmts_;
  std::unordered_map<std::string, topic_state> topics_;  // cache of the topics table
};

}  // namespace roomcast::store
