#include "gateway/proxy_channel.hpp"

#include "gateway/backend_answer.hpp"
#include "util/log.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <random>

namespace roomcast::gateway {

namespace {
/// An error response with a "reason" ("refused" when the backend gave none).
json::object with_reason(const json::value& response) {
  auto out = response.is_object() ? response.get_object() : json::object{};
  if (!out.contains("reason")) out["reason"] = "refused";
  return out;
}
}  // namespace

proxy_channel::proxy_channel(std::shared_ptr<backend_client> backend, std::string base_path)
    : backend_(std::move(backend)), join_path_(base_path + "/join"), event_path_(base_path + "/event") {
  std::random_device random;
  char prefix[20];
  std::snprintf(prefix, sizeof prefix, "%08x%08x", random(), random());
  instance_ = prefix;
}

std::string proxy_channel::next_request_id() {
  // Unique across room restarts and processes: a random instance, then a count.
  return topic() + "/" + instance_ + "/" + std::to_string(++next_request_);
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
  backend_->post_json(join_path_, json::serialize(body), true,
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
  backend_->post_json(event_path_, json::serialize(body), false,
                      [this, back, to](call_result result) {
                        back([this, to, result = std::move(result)] { on_event_answer(to, result); });
                      });
  return reply::none();
}

void proxy_channel::on_join_answer(const member& who, const call_result& result) {
  if (result.what != call_result::outcome::ok) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway", "backend join call failed",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", result.error}});
    complete_join(who, join_result::refuse(failure_reason(result)));
    return;
  }
  auto parsed = parse_answer(result.body, true);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    log::limited(backend_->failure_log(), log::level::warn, "gateway",
                 "backend answered a join with something else",
              {{"topic", topic()}, {"backend", backend_->options().name}, {"error", *why}});
    complete_join(who, join_result::refuse(backend_error));
    return;
  }
  auto& answer = std::get<backend_answer>(parsed);
  bool decided = answer.what == backend_answer::status::ok
                     ? complete_join(who, join_result::accept(std::move(answer.response)))
                     : complete_join(who, join_result::refuse(with_reason(answer.response)));
  // A join that timed out meanwhile was refused: its instructions do not run.
  if (decided) carry_out(answer.instructions);
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
    reply_later(to, reply::error(with_reason(answer.response)));
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
