#include "chat_room.hpp"

#include <chrono>
#include <cstdio>

namespace chat {

namespace json = boost::json;
using roomcast::join_result;
using roomcast::reply;

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

/// "desktop", "phone", ...: a short lower-case word, else "unknown".
std::string device_of(const json::value& params) {
  const auto* obj = params.if_object();
  const auto* device = obj ? obj->if_contains("device") : nullptr;
  if (!device || !device->is_string()) return "unknown";
  std::string_view d = device->get_string();
  if (d.empty() || d.size() > 16) return "unknown";
  for (char c : d)
    if (c < 'a' || c > 'z') return "unknown";
  return std::string(d);
}

}  // namespace

chat_room::chat_room(std::string room, std::shared_ptr<room_index> index)
    : room_(std::move(room)), index_(std::move(index)) {}

join_result chat_room::on_join(const json::value& params, const roomcast::member& who) {
  if (!valid_name(room_))
    return join_result::refuse("invalid room name: 1-32 letters, digits, '_' or '-'");
  if (who.user_id().empty()) return join_result::refuse("login required");
  if (++sockets_of_user_[who.user_id()] == 1) index_->set_online(room_, sockets_of_user_.size());
  track(who, who.user_id(), json::object{{"online_at", now_ms()}, {"device", device_of(params)}});
  return join_result::accept();
}

reply chat_room::on_event(std::string_view event, const json::value& payload,
                          const roomcast::member& from) {
  if (event == "new_msg") return new_message(payload, from);
  if (event == "typing") return typing(from);
  return channel::on_event(event, payload, from);
}

reply chat_room::new_message(const json::value& payload, const roomcast::member& from) {
  const auto* obj = payload.if_object();
  const auto* body = obj ? obj->if_contains("body") : nullptr;
  if (!body) return reply::error("body is required");
  if (!body->is_string()) return reply::error("body must be a string");
  std::string_view text = body->get_string();
  if (blank(text)) return reply::error("body must not be empty");
  if (text.size() > max_body_bytes) return reply::error("body too long (max 4096 bytes)");
  auto id = next_id();
  // Durable topic: the broadcast leaves after the commit with "seq" added, and
  // this reply waits for it and carries the same "seq" (or, if storage fails,
  // becomes the error "storage_unavailable").
  broadcast("new_msg", json::object{{"id", id},
                                                {"user", from.user_id()},
                                                {"body", text},
                                                {"ts", now_ms()}});
  return reply::ok(json::object{{"id", id}});
}

reply chat_room::typing(const roomcast::member& from) {
  // A push to each other member, not a broadcast: a broadcast on a durable topic
  // would be stored, and typing is not history.
  json::object note{{"user", from.user_id()}};
  for_each_member([&](const roomcast::member& m) {
    if (m.id() != from.id()) push(m, "typing", note);
  });
  return reply::ok();
}

void chat_room::on_leave(const roomcast::member& who, roomcast::leave_reason) {
  auto it = sockets_of_user_.find(who.user_id());
  if (it == sockets_of_user_.end()) return;
  if (--it->second == 0) {
    sockets_of_user_.erase(it);
    index_->set_online(room_, sockets_of_user_.size());
  }
}

std::string chat_room::next_id() {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random_()));
  return text;
}

}  // namespace chat
