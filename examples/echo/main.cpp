// example-echo: a raw WebSocket echo server on any path, like the standard
// WebSocket benchmark servers: every message comes back unchanged, same opcode.
#include "roomcast/server.hpp"
#include "server_cli.hpp"

#include <memory>

class echo_handler final : public roomcast::raw_handler {
 public:
  void on_message(roomcast::raw_socket& socket, std::string_view data, bool binary) override {
    socket.send(data, binary);
  }
};

int main(int argc, char** argv) {
  roomcast::server_options options;
  options.heartbeat_timeout = std::chrono::milliseconds(0);  // raw clients send no heartbeats
  if (auto code = roomcast::cli::parse(argc, argv, "example-echo", options)) return *code;
  roomcast::server server(options);
  server.raw_endpoint("*", [] { return std::make_unique<echo_handler>(); });
  return roomcast::cli::run(server);
}
