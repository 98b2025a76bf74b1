#include "presence/presence_table.hpp"

#include <algorithm>

namespace roomcast::presence {

namespace {

void forget_key(std::unordered_map<std::uint64_t, std::vector<std::string>>& keys_by_owner,
                std::uint64_t owner, const std::string& key) {
  auto it = keys_by_owner.find(owner);
  if (it == keys_by_owner.end()) return;
  auto& keys = it->second;
  if (auto k = std::find(keys.begin(), keys.end(), key); k != keys.end()) keys.erase(k);
  if (keys.empty()) keys_by_owner.erase(it);
}

}  // namespace

change table::track(std::string key, std::uint64_t owner, json::object meta, std::string phx_ref) {
  meta["phx_ref"] = phx_ref;
  entry e{key, std::move(phx_ref), owner, std::move(meta)};
  auto& owned = keys_by_owner_[owner];
  if (std::find(owned.begin(), owned.end(), key) == owned.end()) owned.push_back(key);
  by_key_[key].push_back(e);
  change c;
  c.joins.push_back(std::move(e));
  return c;
}

change table::update(const std::string& key, std::uint64_t owner, json::object meta,
                     std::string phx_ref) {
  change c;
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return c;
  for (auto& e : it->second) {
    if (e.owner != owner) continue;
    c.leaves.push_back(e);
    meta["phx_ref"] = phx_ref;
    meta["phx_ref_prev"] = e.phx_ref;
    e.phx_ref = std::move(phx_ref);
    e.meta = std::move(meta);
    c.joins.push_back(e);
    break;  // one meta per update
  }
  return c;
}

change table::untrack(const std::string& key, std::uint64_t owner) {
  return remove_if_matching({key}, owner);
}

change table::untrack_owner(std::uint64_t owner) {
  auto it = keys_by_owner_.find(owner);
  if (it == keys_by_owner_.end()) return {};
  auto keys = it->second;
  return remove_if_matching(keys, owner);
}

change table::remove_if_matching(const std::vector<std::string>& keys, std::uint64_t owner) {
  change c;
  for (const auto& key : keys) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) continue;
    auto& metas = it->second;
    for (auto e = metas.begin(); e != metas.end();) {
      if (e->owner == owner) {
        c.leaves.push_back(std::move(*e));
        e = metas.erase(e);
      } else {
        ++e;
      }
    }
    if (metas.empty()) by_key_.erase(it);
    forget_key(keys_by_owner_, owner, key);
  }
  return c;
}

json::object table::list() const {
  json::object out;
  out.reserve(by_key_.size());
  for (const auto& [key, metas] : by_key_) {
    json::array arr;
    arr.reserve(metas.size());
    for (const auto& e : metas) arr.push_back(e.meta);
    out[key] = json::object{{"metas", std::move(arr)}};
  }
  return out;
}

std::optional<json::object> table::get(std::string_view key) const {
  auto it = by_key_.find(std::string(key));
  if (it == by_key_.end()) return std::nullopt;
  json::array arr;
  for (const auto& e : it->second) arr.push_back(e.meta);
  return json::object{{"metas", std::move(arr)}};
}

std::size_t table::meta_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, metas] : by_key_) n += metas.size();
  return n;
}

json::object to_presences(const std::vector<entry>& entries) {
  json::object out;
  for (const auto& e : entries) {
    auto& slot = out[e.key];
    if (!slot.is_object()) slot = json::object{{"metas", json::array()}};
    slot.get_object()["metas"].get_array().push_back(e.meta);
  }
  return out;
}

void diff_accumulator::add(change c) {
  for (auto& e : c.leaves) {
    // Joined and left within one diff: it never happened, as far as clients know.
    if (auto it = pending_join_.find(e.phx_ref); it != pending_join_.end()) {
      joins_[it->second].phx_ref.clear();  // tombstone, skipped by take()
      pending_join_.erase(it);
      continue;
    }
    leaves_.push_back(std::move(e));
  }
  for (auto& e : c.joins) {
    pending_join_.emplace(e.phx_ref, joins_.size());
    joins_.push_back(std::move(e));
  }
}

json::object diff_accumulator::take() {
  std::erase_if(joins_, [](const entry& e) { return e.phx_ref.empty(); });
  json::object diff{{"joins", to_presences(joins_)}, {"leaves", to_presences(leaves_)}};
  joins_.clear();
  leaves_.clear();
  pending_join_.clear();
  return diff;
}

}  // namespace roomcast::presence
