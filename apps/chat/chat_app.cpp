#include "chat_app.hpp"

#include "chat_room.hpp"
#include "login.hpp"
#include "room_index.hpp"

#include <boost/json/serialize.hpp>

#include <memory>

namespace chat {

roomcast::server_options with_chat_tokens(roomcast::server_options base, const std::string& secret) {
  base.tokens.algorithm = "HS256";
  base.tokens.secret = secret;
  base.tokens.required = true;
  return base;
}

void install(roomcast::server& srv, const app_settings& settings) {
  auto index = std::make_shared<room_index>();
  srv.channel("room:*", [index](std::string_view topic) {
    return std::make_unique<chat_room>(std::string(topic.substr(5)), index);
  });
  srv.route("POST", "/api/login", [secret = settings.secret, ttl = settings.token_ttl](
                                      const roomcast::http_request& req) {
    return login(req, secret, ttl);
  });
  srv.route("GET", "/api/rooms", [index](const roomcast::http_request&) {
    return roomcast::http_response::json(
        200, boost::json::serialize(boost::json::object{{"rooms", index->list()}}));
  });
  if (!settings.web_dir.empty()) srv.static_files("/", settings.web_dir);
}

}  // namespace chat
