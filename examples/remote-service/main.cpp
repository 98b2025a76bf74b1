// build/bin/example-remote-service: a channel that runs out of process. Started as
// a service node of a cluster (--serves 'svc:*' --peers GATEWAY), it owns every
// svc:* topic: the gateway nodes (started with --remote-channel 'svc:*') hold the
// sockets and relay their members' joins and events here, where the channel below
// runs, written with the ordinary channel API (docs/gateway.md#remote-channels).
//
//   svc:*  join: accepted with {"served_by": PID}; "inc": adds one to the topic's
//          counter (in memory: it starts again at 0 with a new process), broadcasts
//          "count" {"count"} and replies {"count", "served_by"}; presence by
//          params.user when given.
#include "roomcast/channel.hpp"
#include "server_cli.hpp"

#include <unistd.h>

#include <memory>

namespace {

class counter_channel final : public roomcast::channel {
 public:
  roomcast::join_result on_join(const roomcast::json::value& params,
                                const roomcast::member& who) override {
    if (const auto* object = params.if_object())
      if (const auto* user = object->if_contains("user"); user && user->is_string())
        track(who, std::string(user->get_string()), {{"served_by", ::getpid()}});
    return roomcast::join_result::accept(roomcast::json::object{{"served_by", ::getpid()}});
  }

  roomcast::reply on_event(std::string_view event, const roomcast::json::value& payload,
                           const roomcast::member& from) override {
    if (event != "inc") return channel::on_event(event, payload, from);
    ++count_;
    broadcast("count", roomcast::json::object{{"count", count_}});
    return roomcast::reply::ok(roomcast::json::object{{"count", count_}, {"served_by", ::getpid()}});
  }

  [[nodiscard]] bool uses_presence() const override { return true; }

 private:
  std::int64_t count_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  roomcast::server_options options;
  if (auto code = roomcast::cli::parse(argc, argv, "example-remote-service", options)) return *code;
  if (options.cluster.serves.empty()) options.cluster.serves.push_back("svc:*");
  roomcast::server server(options);
  server.channel("svc:*", [](std::string_view) { return std::make_unique<counter_channel>(); });
  return roomcast::cli::run(server);
}
