#include "api/http_api.hpp"

#include "actors/messages.hpp"
#include "actors/topic_pattern.hpp"
#include "auth/api_keys.hpp"
#include "cluster/cluster_messages.hpp"
#include "cluster/rendezvous.hpp"
#include "protocol/errors.hpp"
#include "store/history_json.hpp"
#include "store/store_actor.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <optional>

namespace roomcast::api {

namespace json = boost::json;
using namespace std::chrono_literals;

http_response json_error(unsigned status, std::string_view code, std::string_view message) {
  return http_response::json(status,
                             json::serialize(json::object{{"error", code}, {"message", message}}));
}

namespace {

constexpr std::string_view topics_prefix = "/api/topics/";
constexpr std::uint64_t max_history_limit = 1'000;
constexpr auto actor_timeout = 5s;

/// The text a room or the store put in an error (make_error(sec, "text")).
std::string error_text(const caf::error& err) {
  if (err.context().match_elements<std::string>()) return err.context().get_as<std::string>(0);
  return {};
}

/// A query parameter as a non-negative integer: the fallback when absent,
/// nullopt when present but not a number.
std::optional<std::uint64_t> count_param(const http_request& req, const std::string& name,
                                         std::uint64_t fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) return fallback;
  std::uint64_t value = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

/// The JSON object of a request body, or the 400 to answer.
std::variant<json::object, http_response> object_body(const http_request& req) {
  json::error_code ec;
  auto value = json::parse(req.body, ec);
  if (ec) return json_error(400, "bad_request", "the body is not valid JSON: " + ec.message());
  if (!value.is_object()) return json_error(400, "bad_request", "the body must be a JSON object");
  return std::move(value.get_object());
}

std::optional<std::string> string_field(const json::object& body, std::string_view key) {
  const auto* v = body.if_contains(key);
  if (!v || !v->is_string() || v->get_string().empty()) return std::nullopt;
  return std::string(v->get_string());
}

// -- the short-lived actors (spawned with arguments: CAF 0.17 binds a null
//    argument tuple for argument-less function actors, which UBSan reports) ------

void answer_broadcast(caf::event_based_actor* self, const caf::actor& directory,
                      const std::string& topic, const std::string& event,
                      const json::value& payload, const net::http_responder& respond) {
  self->request(directory, actor_timeout, actors::api_atom::value, topic, event, payload)
      .then(
          [respond](json::value& answer) {
            json::object body{{"ok", true}};
            for (auto& [k, v] : answer.as_object()) body[k] = v;
            respond(http_response::json(200, json::serialize(body)));
          },
          [respond, topic](caf::error& err) {
            auto why = error_text(err);
            if (why == "unknown_topic")
              respond(json_error(404, "unknown_topic", "no channel serves topic " + topic));
            else if (why == protocol::reasons::storage_unavailable)
              respond(json_error(503, "storage_unavailable", "the message was not stored"));
            else if (why == protocol::reasons::owner_unreachable)
              respond(json_error(503, "owner_unreachable",
                                 "no node can take topic " + topic + " now (its service is down, or the cluster is settling)"));
            else if (!why.empty())
              respond(json_error(400, "bad_request", why));
            else
              respond(json_error(503, "unavailable", "the topic did not answer"));
          });
}

void answer_topics(caf::event_based_actor* self, const caf::actor& directory,
                   const net::http_responder& respond) {
  self->request(directory, actor_timeout, actors::rooms_atom::value)
      .then(
          [self, respond](actors::room_list& rooms) {
            struct tally {
              std::vector<std::pair<std::string, std::uint64_t>> counted;
              std::size_t waiting = 0;
              net::http_responder respond;
              void done() {
                if (--waiting > 0) return;
                std::sort(counted.begin(), counted.end());
                json::array topics;
                for (auto& [topic, members] : counted)
                  topics.push_back(json::object{{"topic", topic}, {"members", members}});
                respond(http_response::json(200, json::serialize(json::object{{"topics", topics}})));
              }
            };
            auto state = std::make_shared<tally>();
            state->respond = respond;
            state->waiting = rooms.size() + 1;  // +1: released below
            for (auto& [topic, room] : rooms)
              self->request(room, actor_timeout, actors::count_atom::value)
                  .then(
                      [state, topic = topic](std::uint64_t members) {
                        state->counted.emplace_back(topic, members);
                        state->done();
                      },
                      [state](caf::error&) { state->done(); });  // stopped meanwhile
            state->done();
          },
          [respond](caf::error&) {
            respond(json_error(503, "unavailable", "the topic directory did not answer"));
          });
}

/// `remote_only`: the topic is a remote channel's (only service nodes may own it).
json::object cluster_json(const cluster::node_records& records, const std::string& topic,
                          bool remote_only) {
  json::array members;
  std::vector<cluster::placement_member> placement;
  for (std::size_t i = 0; i < records.size(); ++i) {
    json::array serves;
    for (const auto& pattern : records[i].serves) serves.emplace_back(pattern);
    members.push_back(json::object{{"node", records[i].node},
                                   {"incarnation", records[i].incarnation},
                                   {"self", i == 0},
                                   {"serves", serves}});
    placement.push_back({records[i].node, records[i].serves});
  }
  json::object out{{"self", records.empty() ? "" : records.front().node}, {"members", members}};
  if (!topic.empty()) out["owner"] = cluster::place(topic, placement, remote_only).value_or("");
  return out;
}

void answer_cluster(caf::event_based_actor* self, const caf::actor& agent, const std::string& topic,
                    bool remote_only, const net::http_responder& respond) {
  self->request(agent, actor_timeout, cluster::members_atom::value)
      .then(
          [respond, topic, remote_only](cluster::node_records& records) {
            respond(http_response::json(200, json::serialize(cluster_json(records, topic, remote_only))));
          },
          [respond](caf::error&) {
            respond(json_error(503, "unavailable", "the cluster agent did not answer"));
          });
}

void answer_presence(caf::event_based_actor* self, const caf::actor& directory,
                     const std::string& topic, const net::http_responder& respond) {
  self->request(directory, actor_timeout, actors::presence_atom::value, topic)
      .then(
          [topic, respond](json::value& presences) {
            respond(http_response::json(
                200, json::serialize(json::object{{"topic", topic}, {"presences", presences}})));
          },
          [respond](caf::error&) {
            respond(json_error(503, "unavailable", "the topic did not answer"));
          });
}

void answer_history(caf::event_based_actor* self, const caf::actor& store,
                    const std::string& topic, std::uint64_t since, std::uint64_t limit,
                    const net::http_responder& respond) {
  self->request(store, actor_timeout, store::read_atom::value, topic, since, limit, false)
      .then(
          [topic, respond](history_page& page) {
            respond(http_response::json(200, store::history_json(topic, page)));
          },
          [respond](caf::error&) {
            respond(json_error(503, "storage_unavailable", "storage is unavailable"));
          });
}

}  // namespace

http_api::http_api(caf::actor_system& system, std::shared_ptr<const actors::runtime> runtime,
                   caf::actor directory, caf::actor store,
                   std::shared_ptr<actors::connection_tracker> tracker)
    : system_(system),
      runtime_(std::move(runtime)),
      directory_(std::move(directory)),
      store_(std::move(store)),
      tracker_(std::move(tracker)) {}

void http_api::release() {
  directory_ = nullptr;
  store_ = nullptr;
  cluster_ = nullptr;
}

bool http_api::handle(const http_request& req, net::http_responder& respond) {
  enum class endpoint { broadcast, disconnect, topics, presence, history, cluster };
  endpoint which;
  std::string topic;
  const std::string& path = req.path;
  if (path == "/api/broadcast") {
    which = endpoint::broadcast;
  } else if (path == "/api/disconnect") {
    which = endpoint::disconnect;
  } else if (path == "/api/topics") {
    which = endpoint::topics;
  } else if (path == "/api/cluster") {
    which = endpoint::cluster;
  } else if (path.starts_with(topics_prefix) && path.ends_with("/presence") &&
             path.size() > topics_prefix.size() + 9) {
    which = endpoint::presence;
    topic = path.substr(topics_prefix.size(), path.size() - topics_prefix.size() - 9);
  } else if (path.starts_with(topics_prefix) && path.ends_with("/history") &&
             path.size() > topics_prefix.size() + 8) {
    which = endpoint::history;
    topic = path.substr(topics_prefix.size(), path.size() - topics_prefix.size() - 8);
  } else {
    return false;  // the application's routes
  }
  bool post = which == endpoint::broadcast || which == endpoint::disconnect;
  if (req.method != (post ? "POST" : "GET")) {
    respond(json_error(405, "method_not_allowed", "method not allowed for " + path));
    return true;
  }
  switch (auth::check_api_key(req.headers, runtime_->options.api_keys)) {
    case auth::api_auth::ok: break;
    case auth::api_auth::none_configured:
      respond(json_error(401, "unauthorized", "no API key is configured on this server"));
      return true;
    case auth::api_auth::missing:
      respond(json_error(401, "unauthorized", "missing \"Authorization: Bearer KEY\" header"));
      return true;
    case auth::api_auth::wrong:
      respond(json_error(401, "unauthorized", "wrong API key"));
      return true;
  }
  if (!directory_) {
    respond(json_error(503, "unavailable", "server is stopping"));
    return true;
  }
  if (!topic.empty() && !runtime_->find_channel(topic)) {
    respond(json_error(404, "unknown_topic", "no channel serves topic " + topic));
    return true;
  }
  switch (which) {
    case endpoint::broadcast: broadcast(req, respond); break;
    case endpoint::disconnect: disconnect(req, respond); break;
    case endpoint::topics: topics(respond); break;
    case endpoint::presence: presence(topic, respond); break;
    case endpoint::history: history(req, topic, respond); break;
    case endpoint::cluster: cluster(req, respond); break;
  }
  return true;
}

void http_api::broadcast(const http_request& req, net::http_responder& respond) {
  auto parsed = object_body(req);
  if (auto* refusal = std::get_if<http_response>(&parsed)) return respond(std::move(*refusal));
  auto& body = std::get<json::object>(parsed);
  auto topic = string_field(body, "topic");
  auto event = string_field(body, "event");
  if (!topic || !actors::valid_topic(*topic, runtime_->options.max_topic_length))
    return respond(json_error(400, "bad_request", "\"topic\" must be a valid topic name"));
  if (!event || event->starts_with("phx_"))
    return respond(json_error(400, "bad_request",
                              "\"event\" must be a non-empty string not starting with phx_"));
  json::value payload = json::object();
  if (const auto* p = body.if_contains("payload")) payload = *p;
  if (!runtime_->find_channel(*topic))
    return respond(json_error(404, "unknown_topic", "no channel serves topic " + *topic));
  system_.spawn(answer_broadcast, directory_, *topic, *event, std::move(payload), respond);
}

void http_api::disconnect(const http_request& req, net::http_responder& respond) {
  auto parsed = object_body(req);
  if (auto* refusal = std::get_if<http_response>(&parsed)) return respond(std::move(*refusal));
  auto user = string_field(std::get<json::object>(parsed), "user");
  if (!user) return respond(json_error(400, "bad_request", "\"user\" must be a non-empty string"));
  auto connections = tracker_->of_user(*user);
  for (const auto& connection : connections) caf::anon_send(connection, actors::disconnect_atom::value);
  respond(http_response::json(
      200, json::serialize(json::object{{"disconnected", connections.size()}})));
}

void http_api::topics(net::http_responder& respond) {
  system_.spawn(answer_topics, directory_, respond);
}

void http_api::presence(const std::string& topic, net::http_responder& respond) {
  system_.spawn(answer_presence, directory_, topic, respond);
}

void http_api::cluster(const http_request& req, net::http_responder& respond) {
  auto topic = req.query.find("topic");
  std::string wanted = topic == req.query.end() ? "" : topic->second;
  const auto* route = wanted.empty() ? nullptr : runtime_->find_channel(wanted);
  bool remote_only = route && route->remote_only;
  if (!cluster_) {  // one node: itself
    respond(http_response::json(
        200, json::serialize(cluster_json({{"local", 0, caf::actor{}, caf::actor{}, {}}}, wanted,
                                          remote_only))));
    return;
  }
  system_.spawn(answer_cluster, cluster_, wanted, remote_only, respond);
}

void http_api::history(const http_request& req, const std::string& topic,
                       net::http_responder& respond) {
  auto since = count_param(req, "since", 0);
  auto limit = count_param(req, "limit", 100);
  if (!since || !limit || *limit == 0 || *limit > max_history_limit)
    return respond(
        json_error(400, "bad_request", "since must be a non-negative integer and limit 1..1000"));
  system_.spawn(answer_history, store_, topic, *since, *limit, respond);
}

}  // namespace roomcast::api
