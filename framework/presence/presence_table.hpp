#pragma once
// Presence in Phoenix's shape, as pure data: who is here (keys, usually user
// ids), each with one meta per tracked connection. No I/O, no actors.
//
// Every meta carries a unique "phx_ref"; an update replaces a meta by a new one
// that carries "phx_ref_prev". In a cluster the topic's owner holds the one
// table; an entry belongs to a member, and a member on another node to that
// node's relay, so a node's entries go when its relays' members do.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roomcast::presence {

namespace json = boost::json;

/// One tracked meta: `meta` already holds "phx_ref" (and "phx_ref_prev" after
/// an update).
struct entry {
  std::string key;
  std::string phx_ref;
  std::uint64_t owner = 0;  ///< who tracked it (a member id); untracked with it
  json::object meta;
};

/// A change to publish: metas that joined and metas that left, per key.
struct change {
  std::vector<entry> joins;
  std::vector<entry> leaves;
  [[nodiscard]] bool empty() const noexcept { return joins.empty() && leaves.empty(); }
};

class table {
 public:
  /// Tracks `meta` under `key` for `owner`. The stored meta gets "phx_ref".
  /// Returns the join (an owner tracked under the same key twice keeps both).
  change track(std::string key, std::uint64_t owner, json::object meta, std::string phx_ref);

  /// Replaces the meta `owner` tracked under `key` with `meta` (new phx_ref,
  /// "phx_ref_prev" = the old one): a leave of the old meta and a join of the new.
  /// Empty change when `owner` has nothing tracked under `key`.
  change update(const std::string& key, std::uint64_t owner, json::object meta,
                std::string phx_ref);

  /// Untracks what `owner` tracked under `key`.
  change untrack(const std::string& key, std::uint64_t owner);

  /// Untracks everything `owner` tracked (it left, closed, or died).
  change untrack_owner(std::uint64_t owner);

  /// {key: {"metas": [meta, ...]}} for every key, metas in tracking order.
  [[nodiscard]] json::object list() const;

  /// {"metas": [...]} for `key`, or nullopt when nobody is tracked under it.
  [[nodiscard]] std::optional<json::object> get(std::string_view key) const;

  [[nodiscard]] std::size_t key_count() const noexcept { return by_key_.size(); }
  [[nodiscard]] std::size_t meta_count() const noexcept;

 private:
  change remove_if_matching(const std::vector<std::string>& keys, std::uint64_t owner);

  std::unordered_map<std::string, std::vector<entry>> by_key_;
  std::unordered_map<std::uint64_t, std::vector<std::string>> keys_by_owner_;
};

/// {key: {"metas": [...]}} for a list of entries (as in presence_state / diffs).
[[nodiscard]] json::object to_presences(const std::vector<entry>& entries);

/// Collects changes until they are published, so that many joins and leaves go
/// out as one presence_diff. A meta that joins and leaves again before the diff
/// is published appears in neither side.
class diff_accumulator {
 public:
  void add(change c);
  /// Nothing to publish (a join cancelled by its leave does not count).
  [[nodiscard]] bool empty() const noexcept { return pending_join_.empty() && leaves_.empty(); }
  /// {"joins": {...}, "leaves": {...}} and a fresh start.
  json::object take();

 private:
  std::vector<entry> joins_;
  std::vector<entry> leaves_;
  std::unordered_map<std::string, std::size_t> pending_join_;  // phx_ref -> index in joins_
};

}  // namespace roomcast::presence
