// example-broadcast: a raw WebSocket broadcast server on any path, like the
// standard WebSocket benchmark servers: every message goes, unchanged, to every
// connected client, the sender included.
#include "roomcast/server.hpp"
#include "server_cli.hpp"

#include <memory>

class broadcast_handler final : public roomcast::raw_handler {
 public:
  void on_open(roomcast::raw_socket& socket) override { socket.subscribe("all"); }
  void on_message(roomcast::raw_socket& socket, std::string_view data, bool binary) override {
    socket.publish("all", data, binary);
  }
};

int main(int argc, char** argv) {
  roomcast::server_options options;
  options.heartbeat_timeout = std::chrono::milliseconds(0);  // raw clients send no heartbeats
  if (auto code = roomcast::cli::parse(argc, argv, "example-broadcast", options)) return *code;
  roomcast::server server(options);
  server.raw_endpoint("*", [] { return std::make_unique<broadcast_handler>(); });
  return roomcast::cli::run(server);
}
