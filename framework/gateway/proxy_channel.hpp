#pragma once
// A channel whose joins and events a backend decides over HTTP (docs/gateway.md).
// The call leaves from the room without blocking it: on_join answers
// join_result::later() and on_event defers its reply; the backend's answer comes
// back into the room through its dispatcher, where it completes the join or
// sends the reply and carries out the backend's instructions (broadcast, push to
// a user). Failures become "backend_timeout", "backend_unavailable" (also while
// the circuit is open) or "backend_error".

#include "gateway/backend_answer.hpp"
#include "gateway/backend_client.hpp"
#include "roomcast/channel.hpp"

#include <memory>
#include <string>

namespace roomcast::gateway {

class proxy_channel final : public channel {
 public:
  proxy_channel(std::shared_ptr<backend_client> backend, std::string base_path);

  join_result on_join(const json::value& params, const member& who) override;
  reply on_event(std::string_view event, const json::value& payload, const member& from) override;

 private:
  void on_join_answer(const member& who, const call_result& result);
  void on_event_answer(const pending_reply& to, const call_result& result);
  void carry_out(const std::vector<instruction>& instructions);
  [[nodiscard]] json::object socket_json(const member& who) const;
  [[nodiscard]] std::string next_request_id();

  std::shared_ptr<backend_client> backend_;
  std::string join_path_;   // BASE/join
  std::string event_path_;  // BASE/event
  std::string instance_;  // random per channel instance, for request ids
  std::uint64_t next_request_ = 0;
};

}  // namespace roomcast::gateway
