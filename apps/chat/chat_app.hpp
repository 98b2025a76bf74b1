#pragma once
// Everything the chat demo adds to a Roomcast server, in one call: the room
// channel, POST /api/login, GET /api/rooms and the web UI. main.cpp and the
// tests share it.

#include "roomcast/server.hpp"

#include <chrono>
#include <string>

namespace chat {

struct app_settings {
  std::string secret;                     ///< signs login tokens (the server verifies them)
  std::chrono::seconds token_ttl{3600};   ///< lifetime of a login token
  std::string web_dir;                    ///< the bundled UI; empty: no static files
};

/// Server options the demo needs on top of `base`: HS256 tokens with `secret`, required.
roomcast::server_options with_chat_tokens(roomcast::server_options base, const std::string& secret);

/// Registers the channel "room:*", the routes and the UI on `srv` (before start()).
void install(roomcast::server& srv, const app_settings& settings);

}  // namespace chat
