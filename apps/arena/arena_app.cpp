#include "arena_app.hpp"

#include "lobby.hpp"
#include "tick_stats.hpp"

#include <boost/json/serialize.hpp>

namespace arena {

std::shared_ptr<matchmaker> install(roomcast::server& srv, const app_settings& settings) {
  auto seats = std::make_shared<matchmaker>(settings.seats);
  srv.channel("arena:lobby", [seats](std::string_view) { return std::make_unique<lobby>(seats); });
  auto stats = std::make_shared<tick_stats>();
  srv.channel("arena:*", [seats, stats, rooms = settings.rooms](std::string_view topic) {
    return std::make_unique<arena_room>(std::string(topic.substr(6)), seats, rooms, stats);
  });
  srv.route("GET", "/api/arena/stats", [stats](const roomcast::http_request&) {
    return roomcast::http_response::json(200, boost::json::serialize(stats->summary()));
  });
  if (!settings.web_dir.empty()) srv.static_files("/", settings.web_dir);
  return seats;
}

}  // namespace arena
