// build/bin/example-proxy-backend: a small backend for Roomcast's proxy channels
// and connect proxy (docs/gateway.md), used by the tests and the docs. It is a
// Roomcast server itself, with three HTTP routes under /roomcast and one stats
// route; it prints "listening on http://HOST:PORT" like the other binaries.
//
//   POST /roomcast/connect  params.user -> user id "USER" (assigns role=member);
//                           user "mallory" is refused (403 "banned"); no user: anonymous
//   POST /roomcast/join     accepts with {"welcome": topic, "user": user id}, and
//                           broadcasts "joined" {"user"}; params {"deny": true}
//                           -> error "denied". Topics ending in ":slow" answer
//                           after 1.5 s, ":garbage" with a body that is not JSON,
//                           ":status" with 500.
//   POST /roomcast/event    by event: "echo" ok with the payload; "shout" ok and
//                           broadcast "shout"; "whisper" ok and push "whisper" to
//                           the user payload.to; "reject" error "rejected";
//                           "slow" ok after payload.ms (default 1500) ms;
//                           "noreply" no reply, broadcast "quiet"; "garbage" a
//                           body that is not JSON; else error "unknown event".
//   GET  /stats             {"calls", "in_flight", "max_in_flight"} (concurrency seen)
//
// The slow answers sleep on an I/O thread: this is a test device, so it runs
// with many I/O threads (--io-threads, default 16 here).
#include "server_cli.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace json = boost::json;

namespace {

struct stats {
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::int64_t> max_in_flight{0};
};

/// Counts a call as in flight while it lives.
class in_flight_guard {
 public:
  explicit in_flight_guard(stats& s) : s_(s) {
    s_.calls.fetch_add(1);
    auto now = s_.in_flight.fetch_add(1) + 1;
    auto seen = s_.max_in_flight.load();
    while (now > seen && !s_.max_in_flight.compare_exchange_weak(seen, now)) {
    }
  }
  ~in_flight_guard() { s_.in_flight.fetch_sub(1); }
  in_flight_guard(const in_flight_guard&) = delete;
  in_flight_guard& operator=(const in_flight_guard&) = delete;

 private:
  stats& s_;
};

roomcast::http_response answer(const json::value& body) {
  return roomcast::http_response::json(200, json::serialize(body));
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return !ec && v.is_object() ? v.get_object() : json::object{};
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const json::object& object_at(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : empty;
}

roomcast::http_response on_connect(const roomcast::http_request& req) {
  auto body = parse_object(req.body);
  auto user = string_at(object_at(body, "params"), "user");
  if (user == "mallory")
    return answer(json::object{{"status", "error"}, {"reason", "banned"}, {"http_status", 403}});
  if (user.empty()) return answer(json::object{{"status", "ok"}});
  return answer(json::object{{"status", "ok"},
                             {"user_id", user},
                             {"assigns", {{"role", "member"}, {"via", "connect-proxy"}}}});
}

roomcast::http_response on_join(const roomcast::http_request& req) {
  auto body = parse_object(req.body);
  auto topic = string_at(body, "topic");
  auto user = string_at(object_at(body, "socket"), "user_id");
  if (topic.ends_with(":slow")) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  if (topic.ends_with(":garbage")) return {200, "application/json", "this is not JSON", {}};
  if (topic.ends_with(":status")) return roomcast::http_response::json(500, R"({"error":"boom"})");
  const auto* deny = object_at(body, "params").if_contains("deny");
  if (deny && deny->is_bool() && deny->get_bool())
    return answer(json::object{{"status", "error"}, {"response", {{"reason", "denied"}}}});
  return answer(json::object{
      {"status", "ok"},
      {"response", {{"welcome", topic}, {"user", user}}},
      {"instructions", json::array{json::object{{"broadcast", {{"event", "joined"}, {"payload", {{"user", user}}}}}}}}});
}

roomcast::http_response on_event(const roomcast::http_request& req) {
  auto body = parse_object(req.body);
  auto event = string_at(body, "event");
  const auto* payload_value = body.if_contains("payload");
  json::value payload = payload_value ? *payload_value : json::value(json::object{});
  auto ok = [](json::value response, json::array instructions = {}) {
    return answer(json::object{{"status", "ok"}, {"response", std::move(response)},
                               {"instructions", std::move(instructions)}});
  };
  if (event == "echo") return ok(payload);
  if (event == "shout")
    return ok(json::object{}, {json::object{{"broadcast", {{"event", "shout"}, {"payload", payload}}}}});
  if (event == "whisper") {
    auto to = payload.is_object() ? string_at(payload.get_object(), "to") : std::string();
    return ok(json::object{},
              {json::object{{"push", {{"user_id", to}, {"event", "whisper"}, {"payload", payload}}}}});
  }
  if (event == "reject")
    return answer(json::object{{"status", "error"}, {"response", {{"reason", "rejected"}}}});
  if (event == "slow") {
    std::int64_t ms = 1500;
    if (payload.is_object())
      if (const auto* v = payload.get_object().if_contains("ms"); v && v->is_int64()) ms = v->get_int64();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp<std::int64_t>(ms, 0, 10'000)));
    return ok(json::object{{"slept_ms", ms}});
  }
  if (event == "noreply")
    return answer(json::object{{"status", "noreply"},
                               {"instructions", json::array{json::object{{"broadcast", {{"event", "quiet"}, {"payload", payload}}}}}}});
  if (event == "garbage") return {200, "application/json", "{{{", {}};
  return answer(json::object{{"status", "error"}, {"response", {{"reason", "unknown event"}}}});
}

}  // namespace

int main(int argc, char** argv) {
  roomcast::server_options options;
  options.io_threads = 16;
  if (auto code = roomcast::cli::parse(argc, argv, "example-proxy-backend", options)) return *code;
  roomcast::server server(options);
  auto seen = std::make_shared<stats>();
  auto counted = [seen](roomcast::http_handler handler) {
    return [seen, handler](const roomcast::http_request& req) {
      in_flight_guard guard(*seen);
      return handler(req);
    };
  };
  server.route("POST", "/roomcast/connect", counted(on_connect));
  server.route("POST", "/roomcast/join", counted(on_join));
  server.route("POST", "/roomcast/event", counted(on_event));
  server.route("GET", "/stats", [seen](const roomcast::http_request&) {
    return answer(json::object{{"calls", seen->calls.load()},
                               {"in_flight", seen->in_flight.load()},
                               {"max_in_flight", seen->max_in_flight.load()}});
  });
  return roomcast::cli::run(server);
}
