#pragma once
// What a socket is known by once it has connected: set by the server's on_connect
// handler and shared by every channel the socket joins.

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace roomcast {

struct socket_info {
  std::string id;                ///< unique per connection within its server
  std::string user_id;           ///< from on_connect; empty when anonymous
  boost::json::object assigns;   ///< from on_connect: claims, preferences, ...
  std::string remote_address;    ///< peer IP address
  std::map<std::string, std::string> params;  ///< connect query parameters
  /// When the connect token stops being valid ("exp" plus the configured leeway,
  /// Unix seconds): the socket is closed with 1008 "token expired" then. Empty:
  /// no token, or one without "exp".
  std::optional<std::int64_t> token_expires_at;
};

}  // namespace roomcast
