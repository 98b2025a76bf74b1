#pragma once
// Everything the arena demo adds to a Roomcast server: the lobby, the game
// rooms and the page. main.cpp and the tests share it.

#include "arena_room.hpp"
#include "matchmaker.hpp"

#include "roomcast/server.hpp"

#include <memory>
#include <string>

namespace arena {

struct app_settings {
  matchmaker_settings seats;
  room_settings rooms;
  std::string web_dir;  ///< the page; empty: none
};

/// Registers "arena:lobby", "arena:*", GET /api/arena/stats (tick lateness)
/// and the page on `srv` (before start()); returns the matchmaker the channels share.
std::shared_ptr<matchmaker> install(roomcast::server& srv, const app_settings& settings);

}  // namespace arena
