#include "gateway/proxy_channel.hpp"

#include "gateway/backend_answer.hpp"
#include "util/log.hpp"

#include <boost/json/serialize.hpp>

namespace roomcast::gateway {

proxy_channel::proxy_channel(std::shared_ptr<backend_client> backend, std::string base_path)
    : backend_(std::move(backend)), base_path_(std::move(base_path)) {}

std::string proxy_channel::next_request_id() {
  return topic() + "/" + std::to_string(++next_request_);
}

json::object proxy_channel::socket_json(const member& who) const {
  const auto& s = who.socket();
  return {{"id", s.id}, {"user_id", s.user_id}, {"assigns", s.assigns},
          {"remote_address", s.remote_address}};
}

join_result proxy_channel::on_join(const json::value& params, const member& who) {
  json::object body{{"request_id", next_request_id()}, {"topic", topic()}, {"params", params},
                    {"join_ref", who.join_ref()}, {"socket", socket_json(who)}};
  auto back = dispatcher();
  // Joins only ask: safe to retry.
  backend_->post_json(base_path_ + "/join", json::serialize(body), true,
                      [this, back, who](call_result result) {
                        back([this, who, result = std::move(result)] { on_join_answer(who, result); });
                      });
  return join_result::later();
}

reply proxy_channel::on_event(std::string_view event, const json::value& payload,
                              const member& from) {
  json::object body{{"request_id", next_request_id()}, {"topic", topic()}, {"event", event},
                    {"payload", payload}, {"socket", socket_json(from)}};
  auto to = defer_reply();
  auto back = dispatcher();
  // An event may change the backend's state: never retried.
  backend_->post_json(base_path_ + "/event", json::serialize(body), false,
                      [this, back, to](call_result result) {
                        back([this, to, result = std::move(result)] { on_event_answer(to, result); });
                      });
  return reply::none();
}

void proxy_channel::on_join_answer(const member& who, const call_result& result) {
  if (result.what != call_result::outcome::ok) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway", "backend join call failed",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", result.error}});
    return complete_join(who, join_result::refuse(failure_reason(result)));
  }
  auto parsed = parse_answer(result.body, true);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway",
                 "backend answered a join with something else",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", *why}});
    return complete_join(who, join_result::refuse(backend_error));
  }
  auto& answer = std::get<backend_answer>(parsed);
  if (answer.what == backend_answer::status::ok) {
    complete_join(who, join_result::accept(std::move(answer.response)));
  } else {
    auto response = answer.response.is_object() ? answer.response.get_object() : json::object{};
    if (!response.contains("reason")) response["reason"] = "refused";
    complete_join(who, join_result::refuse(std::move(response)));
  }
  carry_out(answer.instructions);
}

void proxy_channel::on_event_answer(const pending_reply& to, const call_result& result) {
  if (result.what != call_result::outcome::ok) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway", "backend event call failed",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", result.error}});
    return reply_later(to, reply::error(failure_reason(result)));
  }
  auto parsed = parse_answer(result.body, false);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway",
                 "backend answered an event with something else",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", *why}});
    return reply_later(to, reply::error(backend_error));
  }
  auto& answer = std::get<backend_answer>(parsed);
  // Instructions first: a pusher that gets its ok has already seen its broadcast.
  carry_out(answer.instructions);
  if (answer.what == backend_answer::status::ok)
    reply_later(to, reply::ok(std::move(answer.response)));
  else if (answer.what == backend_answer::status::error)
    reply_later(to, reply::error(answer.response.is_object() ? answer.response.get_object()
                                                             : json::object{}));
}

void proxy_channel::carry_out(const std::vector<instruction>& instructions) {
  for (const auto& one : instructions) {
    if (one.what == instruction::kind::broadcast) {
      broadcast(one.event, one.payload);
      continue;
    }
    for_each_member([&](const member& m) {
      if (m.user_id() == one.user_id) push(m, one.event, one.payload);
    });
  }
}

}  // namespace roomcast::gateway
