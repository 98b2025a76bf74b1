// build/bin/roomcast-arena: the game-room demo (docs/arena.md). Matchmaking in
// "arena:lobby", server-authoritative rooms "arena:ID" ticking at a fixed rate,
// reconnection grace, spectators, and a canvas page to play in the browser.
#include "arena_app.hpp"
#include "server_cli.hpp"

#include <iostream>

#ifndef ROOMCAST_ARENA_WEB_DIR
#define ROOMCAST_ARENA_WEB_DIR "web"
#endif

int main(int argc, char** argv) {
  roomcast::server_options options;
  std::string web_dir = ROOMCAST_ARENA_WEB_DIR;
  long tick_hz = 20, capacity = 8, grace_ms = 20'000, empty_timeout_ms = 30'000;
  if (auto code = roomcast::cli::parse(
          argc, argv, "roomcast-arena", options,
          {{"web-dir", &web_dir, "directory of the game page"}},
          {{"tick-hz", &tick_hz, "game ticks (state snapshots) per second, 1-100"},
           {"capacity", &capacity, "seats per room, 1-64"},
           {"grace-ms", &grace_ms, "a dropped player keeps the seat this long"},
           {"empty-timeout-ms", &empty_timeout_ms, "a room without players ends after this"}}))
    return *code;
  if (tick_hz < 1 || tick_hz > 100 || capacity < 1 || capacity > 64 || grace_ms < 0 ||
      empty_timeout_ms < 0) {
    std::cerr << "roomcast-arena: --tick-hz must be 1-100, --capacity 1-64, the times >= 0\n";
    return 2;
  }
  arena::app_settings settings;
  settings.seats.capacity = static_cast<std::size_t>(capacity);
  settings.seats.grace = std::chrono::milliseconds(grace_ms);
  settings.rooms.tick = std::chrono::milliseconds(1000 / tick_hz);
  settings.rooms.empty_timeout = std::chrono::milliseconds(empty_timeout_ms);
  settings.web_dir = web_dir;
  roomcast::server server(options);
  try {
    arena::install(server, settings);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-arena: " << e.what() << "\n";
    return 1;
  }
  return roomcast::cli::run(server);
}
