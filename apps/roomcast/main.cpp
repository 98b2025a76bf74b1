// build/bin/roomcast: the Roomcast server with its built-in channels.
#include "roomcast/echo_channel.hpp"
#include "roomcast/presence_channel.hpp"
#include "server_cli.hpp"

#include <memory>

int main(int argc, char** argv) {
  roomcast::server_options options;
  if (auto code = roomcast::cli::parse(argc, argv, "roomcast", options)) return *code;
  roomcast::server server(options);
  server.channel("echo:*", [](std::string_view) {
    return std::make_unique<roomcast::echo_channel>();
  });
  server.channel("presence:*", [](std::string_view) {
    return std::make_unique<roomcast::presence_channel>();
  });
  return roomcast::cli::run(server);
}
