#pragma once
// A ready-made presence channel, served by build/bin/roomcast as "presence:*":
// a join with params {"user": NAME, ...} is tracked under NAME with the other
// params as its meta. Joiners get presence_state, everyone gets presence_diff.
// Pushing "update" with an object replaces the pusher's meta (phx_ref_prev set).

#include "roomcast/channel.hpp"

#include <unordered_map>

namespace roomcast {

class presence_channel final : public channel {
 public:
  join_result on_join(const json::value& params, const member& who) override {
    const auto* obj = params.if_object();
    const json::value* user = obj ? obj->if_contains("user") : nullptr;
    if (!user || !user->is_string() || user->get_string().empty())
      return join_result::refuse("user required");
    json::object meta = *obj;
    meta.erase("user");
    std::string key(user->get_string());
    keys_[who.id()] = key;
    track(who, std::move(key), std::move(meta));
    return join_result::accept();
  }

  reply on_event(std::string_view event, const json::value& payload, const member& from) override {
    if (event != "update") return channel::on_event(event, payload, from);
    if (!payload.is_object()) return reply::error("meta must be an object");
    track(from, keys_.at(from.id()), payload.get_object());  // same key: an update
    return reply::ok();
  }

  void on_leave(const member& who, leave_reason) override { keys_.erase(who.id()); }

  [[nodiscard]] bool uses_presence() const override { return true; }

 private:
  std::unordered_map<std::uint64_t, std::string> keys_;  // member id -> tracked key
};

}  // namespace roomcast
