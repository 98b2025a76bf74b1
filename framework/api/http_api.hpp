#pragma once
// The HTTP API for other services, on the WebSocket port, every endpoint behind
// an API key ("Authorization: Bearer KEY"):
//
//   POST /api/broadcast {topic, event, payload}  -> {"ok", "members"} or, on a durable
//                                                  topic, {"ok", "seq"} after the commit
//   POST /api/disconnect {user}                  -> {"disconnected": n}
//   GET  /api/topics                             -> {"topics": [{"topic", "members"}]}
//   GET  /api/topics/{topic}/presence            -> {"topic", "presences"}
//   GET  /api/topics/{topic}/history?since=&limit=  (see docs/durability.md)
//   GET  /api/cluster?topic=                     -> {"self", "members": [{"node",
//                                                  "incarnation", "self"}], "owner"}
//
// Errors are JSON {"error": code, "message": text}. Answers that need an actor
// come from a short-lived actor, so no I/O thread ever blocks.

#include "actors/connection_tracker.hpp"
#include "actors/runtime.hpp"
#include "net/gateway.hpp"
#include "roomcast/http.hpp"

#include <caf/all.hpp>

#include <memory>
#include <string_view>

namespace roomcast::api {

/// {"error": code, "message": message}.
[[nodiscard]] http_response json_error(unsigned status, std::string_view code,
                                       std::string_view message);

class http_api {
 public:
  http_api(caf::actor_system& system, std::shared_ptr<const actors::runtime> runtime,
           caf::actor directory, caf::actor store,
           std::shared_ptr<actors::connection_tracker> tracker);

  /// Answers `req` (now or later) and returns true when it is one of the
  /// endpoints above; false leaves it to the application's routes.
  bool handle(const http_request& req, net::http_responder& respond);

  /// The node agent, when the server is part of a cluster.
  void attach_cluster(caf::actor agent) { cluster_ = std::move(agent); }

  /// Drops the actor handles (at stop; sessions may outlive the actor system).
  void release();

 private:
  void broadcast(const http_request& req, net::http_responder& respond);
  void disconnect(const http_request& req, net::http_responder& respond);
  void topics(net::http_responder& respond);
  void presence(const std::string& topic, net::http_responder& respond);
  void history(const http_request& req, const std::string& topic, net::http_responder& respond);
  void cluster(const http_request& req, net::http_responder& respond);

  caf::actor_system& system_;
  std::shared_ptr<const actors::runtime> runtime_;
  caf::actor directory_;
  caf::actor store_;
  caf::actor cluster_;  // null: a node of its own
  std::shared_ptr<actors::connection_tracker> tracker_;
};

}  // namespace roomcast::api
