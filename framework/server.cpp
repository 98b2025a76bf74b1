#include "roomcast/server.hpp"

#include "actors/actor_receiver.hpp"
#include "actors/connection_actor.hpp"
#include "actors/connection_tracker.hpp"
#include "actors/runtime.hpp"
#include "actors/topic_directory.hpp"
#include "actors/topic_pattern.hpp"
#include "api/http_api.hpp"
#include "api/static_files.hpp"
#include "auth/origin.hpp"
#include "auth/token_verifier.hpp"
#include "cluster/node_agent.hpp"
#include "cluster/rendezvous.hpp"
#include "gateway/backend_answer.hpp"
#include "gateway/backend_client.hpp"
#include "gateway/backend_metrics.hpp"
#include "gateway/backend_url.hpp"
#include "gateway/proxy_channel.hpp"
#include "metrics/exposition.hpp"
#include "metrics/server_metrics.hpp"
#include "net/gateway.hpp"
#include "net/idle_sweeper.hpp"
#include "net/listener.hpp"
#include "net/session_registry.hpp"
#include "protocol/codec.hpp"
#include "protocol/errors.hpp"
#include "store/store_actor.hpp"
#include "util/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pthread.h>
#include <signal.h>

namespace roomcast {

namespace json = boost::json;

namespace asio = boost::asio;

namespace {

struct raw_route {
  std::string path;
  raw_handler_factory factory;
};

using api::json_error;

unsigned default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

/// Runs application code; false (logged as "<what> threw") when it threw.
template <class Fn>
bool ran_without_throwing(std::string_view what, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    log::error("http", std::string(what) + " threw", {{"error", e.what()}});
  } catch (...) {
    log::error("http", std::string(what) + " threw");
  }
  return false;
}

}  // namespace

// The gateway (what the socket layer asks of the server) lives in its own object
// so that sessions can hold it by shared_ptr without holding the server.
class server_gateway final : public net::gateway,
                             public std::enable_shared_from_this<server_gateway> {
 public:
  server_gateway(std::shared_ptr<const actors::runtime> rt, caf::actor_system& system,
                 caf::actor directory, std::shared_ptr<actors::connection_tracker> tracker,
                 std::shared_ptr<net::session_registry> registry, std::vector<raw_route> raw_routes,
                 std::map<std::string, http_handler> routes,
                 std::vector<std::shared_ptr<const api::static_files>> statics,
                 connect_handler on_connect, caf::actor store,
                 std::optional<auth::token_verifier> tokens)
      : runtime_(std::move(rt)),
        api_(system, runtime_, directory, std::move(store), tracker),
        registry_(std::move(registry)),
        system_(system),
        directory_(std::move(directory)),
        tracker_(std::move(tracker)),
        raw_routes_(std::move(raw_routes)),
        routes_(std::move(routes)),
        statics_(std::move(statics)),
        on_connect_(std::move(on_connect)),
        tokens_(std::move(tokens)) {
    const auto& o = runtime_->options;
    limits_.max_frame_bytes = o.max_frame_bytes;
    limits_.handshake_timeout = o.handshake_timeout;
    limits_.outbound_budget_bytes = o.outbound_budget_bytes;
    limits_.read_window = std::max<std::size_t>(1, o.read_window);
    limits_.counters = runtime_->counters;
  }

  const net::socket_limits& limits() const override { return limits_; }

  void handle_http(const http_request& req, net::http_responder respond) override {
    if (api_.handle(req, respond)) return;
    respond(handle_route(req));
  }

  /// Drops actor handles at stop (sessions can outlive the actor system a little).
  void release_actors() { api_.release(); }
  void attach_cluster(caf::actor agent) { api_.attach_cluster(std::move(agent)); }
  /// Draining: new WebSocket upgrades get 503 (HTTP requests are still served).
  void refuse_upgrades() { draining_ = true; }

 public:
  http_response handle_route(const http_request& req) {
    auto it = routes_.find(req.method + " " + req.path);
    if (it == routes_.end()) {
      for (const auto& files : statics_)
        if (auto found = files->serve(req)) return std::move(*found);
      for (const auto& [key, handler] : routes_)
        if (key.substr(key.find(' ') + 1) == req.path)
          return json_error(405, "method_not_allowed", "method not allowed for " + req.path);
      return json_error(404, "not_found", "no route for " + req.path);
    }
    try {
      return it->second(req);
    } catch (const std::exception& e) {
      log::error("http", "handler threw", {{"path", req.path}, {"error", e.what()}});
    } catch (...) {
      log::error("http", "handler threw", {{"path", req.path}});
    }
    return json_error(500, "internal_error", "internal error");
  }

  /// A connect proxy: the backend decides instead of the on_connect handler.
  void use_connect_proxy(std::shared_ptr<roomcast::gateway::backend_client> backend, std::string path) {
    connect_backend_ = std::move(backend);
    connect_path_ = std::move(path);
  }

  void plan_upgrade(const http_request& req, std::function<void(net::upgrade_plan)> decide) override {
    prepared_upgrade ready;
    if (auto refusal = prepare_upgrade(req, ready)) return decide(refused(std::move(*refusal)));
    if (!connect_backend_) return decide(decide_locally(std::move(ready)));
    const auto& r = ready.request;
    json::object headers;
    for (const auto& [name, value] : r.headers) {
      if (name == "sec-websocket-key" || name == "sec-websocket-extensions") continue;
      // With token auth on, the token was verified here: its carrier stays here.
      if (tokens_ && name == "sec-websocket-protocol") continue;
      headers[name] = value;
    }
    json::object params;
    for (const auto& [name, value] : r.params)
      if (name != "token" || !tokens_) params[name] = value;
    json::object body{{"request_id", "connect/" + std::to_string(++next_connect_call_)},
                      {"path", r.path},          {"params", params},
                      {"headers", headers},      {"remote_address", r.remote_address},
                      {"subject", r.subject},    {"claims", r.claims},
                      {"tls", r.tls}};
    // Only asks: safe to retry.
    connect_backend_->post_json(
        connect_path_, json::serialize(body), true,
        [self = shared_from_this(), ready = std::make_shared<prepared_upgrade>(std::move(ready)),
         decide](roomcast::gateway::call_result result) {
          decide(self->decide_by_backend(std::move(*ready), result));
        });
  }

 private:
  /// What an upgrade needs once its checks passed: the request as on_connect
  /// sees it, the raw endpoint's factory (if any) and the token's expiry.
  struct prepared_upgrade {
    connect_request request;
    const raw_handler_factory* raw_factory = nullptr;
    std::optional<std::int64_t> expires_at;
  };

  net::upgrade_plan refused(http_response response) {
    net::upgrade_plan plan;
    plan.refusal = std::move(response);
    return plan;
  }

  net::upgrade_plan decide_locally(prepared_upgrade ready) {
    connect_result decision = connect_result::accept(ready.request.subject, ready.request.claims);
    if (on_connect_ &&
        !ran_without_throwing("on_connect", [&] { decision = on_connect_(ready.request); }))
      return refused(json_error(500, "internal_error", "internal error"));
    return finish_upgrade(std::move(ready), decision);
  }

  net::upgrade_plan decide_by_backend(prepared_upgrade ready, const roomcast::gateway::call_result& result) {
    if (result.what != roomcast::gateway::call_result::outcome::ok) {
      log::limited(connect_backend_->failure_log(), log::level::warn, "gateway",
                   "connect proxy call failed", {{"error", result.error}});
      if (result.what == roomcast::gateway::call_result::outcome::bad_status)
        return refused(json_error(502, std::string(roomcast::gateway::backend_error),
                                  "the connect backend answered " + result.error));
      return refused(json_error(503, std::string(roomcast::gateway::failure_reason(result)),
                                "the connect backend did not answer"));
    }
    auto parsed = roomcast::gateway::parse_connect_answer(result.body);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      log::limited(connect_backend_->failure_log(), log::level::warn, "gateway",
                   "connect proxy answered something else", {{"error", *why}});
      return refused(json_error(502, std::string(roomcast::gateway::backend_error),
                                "the connect backend's answer is not valid: " + *why));
    }
    auto& answer = std::get<roomcast::gateway::connect_answer>(parsed);
    if (!answer.accepted)
      return finish_upgrade(std::move(ready),
                            connect_result::refuse(answer.reason, answer.http_status));
    return finish_upgrade(std::move(ready),
                          connect_result::accept(answer.user_id, std::move(answer.assigns)));
  }

  /// The checks every upgrade passes before anyone decides on it; a refusal, or
  /// nullopt with `ready` filled in.
  std::optional<http_response> prepare_upgrade(const http_request& req, prepared_upgrade& ready) {
    if (draining_) {
      return json_error(503, "draining", "this server is draining; connect to another");
    }
    const raw_handler_factory* raw_factory = nullptr;
    if (req.path != runtime_->options.socket_path) {
      for (const auto& route : raw_routes_)
        if (route.path == "*" || route.path == req.path) {
          raw_factory = &route.factory;
          break;
        }
      if (!raw_factory) {
        return json_error(404, "not_found", "no WebSocket endpoint at " + req.path);
      }
    } else if (auto vsn = req.query.find("vsn");
               vsn != req.query.end() && !vsn->second.starts_with("2.")) {
      return json_error(400, "unsupported_version",
                                "only the Phoenix v2 serializer (vsn=2.0.0) is supported");
    }

    // Cross-site WebSocket hijacking: a page from an origin not on the list.
    const auto& o = runtime_->options;
    if (auto origin = req.headers.find("origin");
        !o.allowed_origins.empty() && origin != req.headers.end() &&
        !auth::origin_allowed(origin->second, o.allowed_origins)) {
      return json_error(403, "origin_not_allowed",
                                "WebSocket connections from " + origin->second + " are not allowed");
    }

    // Connection limits, before anything is spent on the socket.
    auto& counters = *runtime_->counters;
    if (o.max_connections && registry_->size() >= o.max_connections) {
      util::counters::bump(counters.refused_node_limit);
      return json_error(503, "too_many_connections", "this server is at its connection limit");
    }
    if (o.max_connections_per_ip && registry_->count_from(req.remote_address) >= o.max_connections_per_ip) {
      util::counters::bump(counters.refused_ip_limit);
      return json_error(429, "too_many_connections_from_address",
                                "too many connections from this address");
    }

    // The token, before the application sees anything.
    connect_request request{req.path, req.query, req.headers, req.remote_address, {}, {},
                            req.tls, req.client_cert_subject};
    std::optional<std::int64_t> expires_at;
    if (tokens_) {
      auto q = req.query.find("token");
      auto p = req.headers.find("sec-websocket-protocol");
      auto token = auth::token_of(q == req.query.end() ? nullptr : &q->second,
                                  p == req.headers.end() ? nullptr : &p->second);
      if (!token.empty() || tokens_->options().required) {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        auto verified = tokens_->verify(token, now);
        if (!verified.ok) {
          util::counters::bump(runtime_->counters->refused_tokens);
          return json_error(401, "unauthorized", verified.reason);
        }
        request.subject = std::move(verified.subject);
        request.claims = std::move(verified.claims);
        expires_at = verified.expires_at;
      }
    }

    ready.request = std::move(request);
    ready.raw_factory = raw_factory;
    ready.expires_at = expires_at;
    return std::nullopt;
  }

  net::upgrade_plan finish_upgrade(prepared_upgrade ready, const connect_result& decision) {
    if (!decision.accepted())
      return refused(json_error(decision.http_status(), "connect_refused", decision.reason()));
    const auto& request = ready.request;
    net::upgrade_plan plan;
    auto info = std::make_shared<socket_info>();
    info->id = "c" + std::to_string(++next_connection_id_);
    info->user_id = decision.user_id();
    info->assigns = decision.assigns();
    info->remote_address = request.remote_address;
    info->params = request.params;
    if (tokens_) info->params.erase("token");  // verified above; channels need not see it
    info->token_expires_at = ready.expires_at;
    if (info->user_id.empty()) info->user_id = request.subject;  // on_connect may leave it to the token
    if (info->assigns.empty()) info->assigns = request.claims;
    std::unique_ptr<raw_handler> raw;
    if (ready.raw_factory &&
        !ran_without_throwing("raw endpoint factory", [&] { raw = (*ready.raw_factory)(); }))
      return refused(json_error(500, "internal_error", "internal error"));
    // shared_ptr so the std::function stays copyable; the handler moves out once.
    auto raw_holder = std::make_shared<std::unique_ptr<raw_handler>>(std::move(raw));
    plan.attach = [&system = system_, directory = directory_, rt = runtime_, info, raw_holder,
                   tracker = tracker_](std::shared_ptr<net::ws_sink> sink) {
      auto connection = system.spawn<actors::connection_actor>(
          std::move(sink), std::shared_ptr<const socket_info>(info), directory, rt,
          std::move(*raw_holder));
      tracker->add(connection, info->user_id);
      return std::make_shared<actors::actor_receiver>(std::move(connection));
    };
    return plan;
  }

  std::shared_ptr<const actors::runtime> runtime_;
  api::http_api api_;
  std::shared_ptr<net::session_registry> registry_;
  caf::actor_system& system_;
  caf::actor directory_;
  std::shared_ptr<actors::connection_tracker> tracker_;
  std::vector<raw_route> raw_routes_;
  std::map<std::string, http_handler> routes_;
  std::vector<std::shared_ptr<const api::static_files>> statics_;
  connect_handler on_connect_;
  std::shared_ptr<roomcast::gateway::backend_client> connect_backend_;  // the connect proxy, if any
  std::string connect_path_;
  std::optional<auth::token_verifier> tokens_;
  net::socket_limits limits_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> next_connection_id_{0};
  std::atomic<std::uint64_t> next_connect_call_{0};
};

struct server::impl {
  explicit impl(server_options o) : options(std::move(o)) {}

  server_options options;
  std::vector<actors::channel_route> channels;
  std::vector<raw_route> raw_routes;
  std::map<std::string, http_handler> routes;
  std::vector<std::shared_ptr<const api::static_files>> statics;
  connect_handler on_connect;

  // Declared before the actor system: destroyed after it (see CAF-NOTES).
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> io_threads;
  /// Proxy channels' and the connect proxy's backends (after ioc: destroyed
  /// before it; channel factories hold them weakly).
  std::vector<std::shared_ptr<roomcast::gateway::backend_client>> backends;
  std::shared_ptr<roomcast::gateway::backend_client> connect_backend;
  std::string connect_path;

  /// A backend client for `url`; throws std::invalid_argument when it is not http://HOST:PORT/PATH.
  std::pair<std::shared_ptr<roomcast::gateway::backend_client>, std::string> make_backend(
      std::string name, const backend_settings& settings) {
    auto url = roomcast::gateway::parse_backend_url(settings.url);
    if (!url)
      throw std::invalid_argument("backend URL must be http://HOST:PORT/PATH: " + settings.url);
    if (settings.timeout.count() <= 0 || settings.max_in_flight == 0 || settings.failure_threshold == 0)
      throw std::invalid_argument("backend " + name +
                                  ": timeout, max_in_flight and failure_threshold must be > 0");
    roomcast::gateway::backend_options o;
    o.name = std::move(name);
    o.host = url->host;
    o.port = url->port;
    o.timeout = settings.timeout;
    o.max_in_flight = settings.max_in_flight;
    o.max_queued = settings.max_queued;
    o.failure_threshold = settings.failure_threshold;
    o.open_for = settings.open_for;
    auto client = std::make_shared<roomcast::gateway::backend_client>(ioc, std::move(o));
    backends.push_back(client);
    return {client, url->base};
  }
  caf::actor_system_config actor_config;
  std::optional<caf::actor_system> system;
  caf::actor directory;
  std::shared_ptr<actors::connection_tracker> connections;
  std::shared_ptr<util::counters> counters = std::make_shared<util::counters>();
  std::shared_ptr<net::session_registry> registry;
  std::shared_ptr<net::idle_sweeper> sweeper;  // null when idle_park_after is 0
  std::shared_ptr<net::listener> listener;
  std::shared_ptr<net::tls_context_holder> tls;  // null without TLS
  std::shared_ptr<server_gateway> gateway;
  caf::actor store;
  caf::actor cluster_agent;  // null without a cluster
  std::string cluster_node;  // this node's advertised name
  std::shared_ptr<store::store_health> store_health = std::make_shared<store::store_health>();
  std::atomic<bool> accepting{false};
  std::uint16_t port = 0;
  bool started = false;
  bool stopped = false;
};

server::server(server_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

server::~server() { stop(); }

void server::channel(std::string pattern, channel_factory factory) {
  if (impl_->started) throw std::logic_error("server::channel after start()");
  impl_->channels.push_back({std::move(pattern), std::move(factory)});
}

void server::proxy_channel(std::string pattern, backend_settings backend) {
  if (impl_->started) throw std::logic_error("server::proxy_channel after start()");
  auto [client, base] = impl_->make_backend(pattern, backend);
  std::weak_ptr<roomcast::gateway::backend_client> weak = client;
  impl_->channels.push_back(
      {std::move(pattern),
       [weak, base = std::move(base)](std::string_view) -> std::unique_ptr<roomcast::channel> {
         auto held = weak.lock();
         if (!held) return nullptr;  // the server is going away
         return std::make_unique<roomcast::gateway::proxy_channel>(std::move(held), base);
       }});
}

void server::remote_channel(std::string pattern) {
  if (impl_->started) throw std::logic_error("server::remote_channel after start()");
  impl_->channels.push_back(
      {std::move(pattern), [](std::string_view) { return std::unique_ptr<roomcast::channel>(); }, true});
}

void server::connect_proxy(backend_settings backend) {
  if (impl_->started) throw std::logic_error("server::connect_proxy after start()");
  auto [client, base] = impl_->make_backend("connect", backend);
  impl_->connect_backend = std::move(client);
  impl_->connect_path = base + "/connect";
}

void server::on_connect(connect_handler handler) {
  if (impl_->started) throw std::logic_error("server::on_connect after start()");
  impl_->on_connect = std::move(handler);
}

void server::raw_endpoint(std::string path, raw_handler_factory factory) {
  if (impl_->started) throw std::logic_error("server::raw_endpoint after start()");
  impl_->raw_routes.push_back({std::move(path), std::move(factory)});
}

void server::route(std::string method, std::string path, http_handler handler) {
  if (impl_->started) throw std::logic_error("server::route after start()");
  impl_->routes.insert_or_assign(method + " " + path, std::move(handler));
}

void server::static_files(std::string url_prefix, const std::string& directory) {
  if (impl_->started) throw std::logic_error("server::static_files after start()");
  impl_->statics.push_back(std::make_shared<const api::static_files>(std::move(url_prefix), directory));
}

const server_options& server::options() const { return impl_->options; }

std::uint16_t server::port() const { return impl_->port; }

void server::start() {
  auto& s = *impl_;
  if (s.started) throw std::logic_error("server::start called twice");
  for (const auto& p : s.options.gateway.proxies) proxy_channel(p.pattern, p.backend);
  for (const auto& pattern : s.options.gateway.remote_channels) remote_channel(pattern);
  if (!s.options.gateway.connect.url.empty()) connect_proxy(s.options.gateway.connect);
  if (s.options.max_topic_length > protocol::max_binary_field)
    throw std::invalid_argument("max_topic_length must be at most 255 (binary frames carry 1 length byte)");
  // Everything that can refuse the options, before anything starts.
  const auto& t = s.options.tokens;
  if (t.algorithm.empty() && (!t.secret.empty() || !t.public_key_file.empty() ||
                              !t.audience.empty() || !t.issuer.empty()))
    throw std::invalid_argument(
        "token secret, key, audience or issuer given without a token algorithm: tokens would not "
        "be checked");
  std::vector<auth::topic_rule> rules;
  for (const auto& text : s.options.topic_rules) {
    auto rule = auth::parse_topic_rule(text);
    if (!rule)
      throw std::invalid_argument("topic rule '" + text +
                                  "' is not PATTERN or PATTERN CLAIM=VALUE (see docs/security.md)");
    rules.push_back(std::move(*rule));
  }
  std::optional<auth::token_verifier> tokens;
  if (!t.algorithm.empty()) tokens.emplace(t);  // a bad algorithm or key file throws here
  const auto& c = s.options.cluster;
  if (!c.serves.empty() && !c.enabled())
    throw std::invalid_argument("a service node (serves) needs a cluster: a cluster port or peers");
  if (c.enabled()) {
    if (c.heartbeat.count() <= 0 || c.failure_timeout < 2 * c.heartbeat)
      throw std::invalid_argument(
          "cluster heartbeat must be > 0 and the failure timeout at least twice the heartbeat");
    if (c.tls() && (c.tls_cert.empty() || c.tls_key.empty() || c.tls_ca.empty()))
      throw std::invalid_argument(
          "cluster TLS needs a certificate, its key and the CA together (anonymous TLS is refused)");
    for (const auto* file : {&c.tls_cert, &c.tls_key, &c.tls_ca})
      if (!file->empty() && !std::ifstream(*file))
        throw std::invalid_argument("cluster TLS: cannot read " + *file);
    if (c.advertise.empty() && (c.host == "0.0.0.0" || c.host == "::"))
      throw std::invalid_argument(
          "a cluster port on a wildcard address needs cluster advertise (host:port others reach)");
  }
  const auto& tls = s.options.tls;
  if (!tls.enabled() && (!tls.key_file.empty() || !tls.client_ca_file.empty() ||
                         tls.client_certs != client_cert_mode::none))
    throw std::invalid_argument("TLS key, client CA or client certificates given without a certificate");
  if (tls.enabled()) s.tls = std::make_shared<net::tls_context_holder>(tls);  // bad files throw
  s.started = true;

  auto rt = std::make_shared<actors::runtime>();
  rt->options = s.options;
  rt->channels = s.channels;
  rt->counters = s.counters;
  rt->topic_rules = std::move(rules);
  std::shared_ptr<const actors::runtime> runtime = rt;

  unsigned actor_threads = s.options.actor_threads ? s.options.actor_threads : default_threads();
  s.actor_config.set("scheduler.max-threads", static_cast<std::size_t>(actor_threads));
  // Fairness: a busy actor (a flooded room) yields its thread after this many
  // messages instead of draining its whole mailbox first (CAF's default: no limit).
  s.actor_config.set("scheduler.max-throughput", static_cast<std::size_t>(500));
  std::string db_path = s.options.store.path.empty() ? s.options.data_dir + "/roomcast.db"
                                                     : s.options.store.path;
  // Opened at once when durable topics are configured (a bad file shows at
  // start); otherwise on first use, by a channel that declares itself durable.
  if (c.enabled()) {
    // CAF's remoting: the heartbeat and the connection timeout are what notice a
    // hung peer (CAF 0.17 has no node-down message; see CAF-NOTES).
    s.actor_config.load<caf::io::middleman>();
    if (!c.tls()) {
      // Plain transport: CAF's own heartbeat closes a silent link too. Over its
      // OpenSSL transport CAF does not count the heartbeats and would close
      // healthy links, so there the agents' pings alone decide.
      s.actor_config.set("middleman.heartbeat-interval",
                         std::chrono::duration_cast<caf::timespan>(c.heartbeat));
      s.actor_config.set("middleman.connection-timeout",
                         std::chrono::duration_cast<caf::timespan>(c.failure_timeout));
    }
    if (c.tls()) {
      s.actor_config.load<caf::openssl::manager>();
      s.actor_config.openssl_certificate = c.tls_cert;
      s.actor_config.openssl_key = c.tls_key;
      s.actor_config.openssl_cafile = c.tls_ca;
    }
    cluster::register_cluster_types(s.actor_config);
  }
  s.system.emplace(s.actor_config);
  s.store = store::spawn_store(*s.system, db_path, s.options.store, s.store_health,
                               !s.options.store.durable.empty());
  s.directory = s.system->spawn<actors::topic_directory>(runtime, s.store);
  s.connections = std::make_shared<actors::connection_tracker>();

  if (!s.routes.count("GET /healthz"))
    s.routes.emplace("GET /healthz", [](const http_request&) {
      return http_response::json(200, R"({"status":"ok"})");
    });
  if (!s.routes.count("GET /metrics"))
    s.routes.emplace("GET /metrics", [&s](const http_request&) {
      return http_response{200, std::string(metrics::content_type),
                           metrics::render(*s.counters, s.registry->size(), *s.store_health,
                                           s.accepting.load()) +
                               roomcast::gateway::render_backend_metrics(s.backends),
                           {}};
    });
  if (!s.routes.count("GET /readyz"))
    s.routes.emplace("GET /readyz", [&s](const http_request&) {
      bool accepting = s.accepting.load();
      bool store_ok = s.store_health->healthy.load();
      boost::json::object body{{"status", accepting && store_ok ? "ready" : "not_ready"},
                               {"accepting", accepting},
                               {"storage", store_ok ? "ok" : "unavailable"}};
      return http_response::json(accepting && store_ok ? 200 : 503, boost::json::serialize(body));
    });

  try {
    s.registry = std::make_shared<net::session_registry>();
    s.gateway = std::make_shared<server_gateway>(runtime, *s.system, s.directory,
                                                 s.connections, s.registry, s.raw_routes,
                                                 s.routes, s.statics, s.on_connect, s.store,
                                                 std::move(tokens));
    if (c.enabled()) {
      s.cluster_agent = s.system->spawn<cluster::node_agent>(cluster::agent_settings{
          "", cluster::new_incarnation(), c.peers, c.seed_retry, c.heartbeat, c.failure_timeout,
          s.counters, c.tls(), s.directory, c.serves});
      auto bound = c.tls() ? caf::openssl::publish(s.cluster_agent, c.port, c.host.c_str(), true)
                           : s.system->middleman().publish(s.cluster_agent, c.port, c.host.c_str(), true);
      if (!bound)
        throw std::runtime_error("cannot open the cluster port " + c.host + ":" +
                                 std::to_string(c.port) + ": " + s.system->render(bound.error()));
      s.cluster_node = c.advertise.empty() ? c.host + ":" + std::to_string(*bound) : c.advertise;
      caf::anon_send(s.cluster_agent, cluster::start_atom::value, s.cluster_node);
      s.gateway->attach_cluster(s.cluster_agent);
    }
    if (s.connect_backend) s.gateway->use_connect_proxy(s.connect_backend, s.connect_path);
    // Last: once it listens, everything it hands requests to exists.
    auto address = asio::ip::make_address(s.options.host);
    s.listener = std::make_shared<net::listener>(
        s.ioc, net::tcp::endpoint(address, s.options.port), s.gateway, s.registry, s.tls);
  } catch (...) {
    // Nothing is listening: take the actor system down again and report.
    caf::anon_send(s.directory, actors::shutdown_atom::value);
    s.directory = nullptr;
    caf::anon_send(s.store, actors::stop_atom::value);
    s.store = nullptr;
    if (s.cluster_agent) caf::anon_send_exit(s.cluster_agent, caf::exit_reason::user_shutdown);
    s.cluster_agent = nullptr;
    s.gateway.reset();
    s.system->await_all_actors_done();
    s.system.reset();
    s.stopped = true;
    throw;
  }
  s.port = s.listener->port();
  s.listener->start();
  s.accepting = true;

  if (s.options.idle_park_after.count() > 0) {
    s.sweeper = std::make_shared<net::idle_sweeper>(s.ioc, s.registry, s.options.idle_park_after);
    s.sweeper->start();
  }
  s.work.emplace(s.ioc.get_executor());
  unsigned io_threads = s.options.io_threads ? s.options.io_threads : default_threads();
  for (unsigned i = 0; i < io_threads; ++i) s.io_threads.emplace_back([&s] { s.ioc.run(); });
  log::info("server", "started",
            {{"host", s.options.host},
             {"port", std::to_string(s.port)},
             {"tls", !tls.enabled() ? "off" : tls.allow_plain ? "on (plain too)" : "on"},
             {"tokens", t.algorithm.empty() ? "off" : t.algorithm + (t.required ? "" : " (optional)")},
             {"topic_rules", std::to_string(s.options.topic_rules.size())},
             {"allowed_origins", std::to_string(s.options.allowed_origins.size())},
             {"cluster", s.cluster_node.empty() ? "off" : s.cluster_node}});
}

void server::stop() { shut_down(protocol::close_codes::going_away, "server shutting down"); }

void server::drain() {
  auto& s = *impl_;
  if (!s.started || s.stopped) return;
  // Readiness first (GET /readyz keeps answering, now 503): load balancers stop
  // sending new clients; new WebSocket upgrades are refused with 503 meanwhile.
  s.accepting = false;
  s.gateway->refuse_upgrades();
  const std::string reason = "server draining";
  constexpr auto step = std::chrono::milliseconds(100);
  auto steps = std::max<std::int64_t>(1, s.options.drain_window / step);
  log::info("server", "draining", {{"sockets", std::to_string(s.registry->size())},
                                   {"window_ms", std::to_string(s.options.drain_window.count())}});
  // Even batches from the count at the start: the last leaves near the window's end.
  auto batch = std::max<std::size_t>(
      1, (s.registry->size() + static_cast<std::size_t>(steps) - 1) / static_cast<std::size_t>(steps));
  for (std::int64_t i = 0; i < steps; ++i) {
    if (s.registry->close_some(batch, protocol::close_codes::service_restart, reason) < batch) break;
    if (i + 1 < steps) std::this_thread::sleep_for(step);
  }
  shut_down(protocol::close_codes::service_restart, reason);
}

void server::shut_down(std::uint16_t code, const std::string& reason) {
  auto& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  log::info("server", "stopping");
  s.accepting = false;
  s.listener->stop();
  if (s.sweeper) s.sweeper->stop();
  // Close every socket; connection actors quit as their sockets close.
  s.registry->close_all(code, reason);
  if (!s.registry->wait_empty(s.options.shutdown_grace)) {
    log::warn("server", "sockets still open after grace period; dropping them",
              {{"open", std::to_string(s.registry->size())}});
    s.registry->abort_all();
    s.registry->wait_empty(std::chrono::milliseconds(1'000));
  }
  // Leaving: the other nodes see this agent go down and drop this node at once.
  if (s.cluster_agent) caf::anon_send_exit(s.cluster_agent, caf::exit_reason::user_shutdown);
  s.cluster_agent = nullptr;
  caf::anon_send(s.directory, actors::shutdown_atom::value);
  s.directory = nullptr;
  // The store commits what the rooms handed it, then quits.
  caf::anon_send(s.store, actors::stop_atom::value);
  s.store = nullptr;
  s.work.reset();
  s.ioc.stop();
  for (auto& thread : s.io_threads) thread.join();
  s.io_threads.clear();
  s.gateway->release_actors();  // no I/O thread reads them any more
  // Connections whose sockets could not be closed in time quit now.
  s.connections->kill_all();
  s.system->await_all_actors_done();
  s.system.reset();
  log::info("server", "stopped");
}

namespace {

/// Asks the directory (and so the topic's room) and waits, bounded.
boost::json::value ask_presence(caf::actor_system& system, const caf::actor& directory,
                                caf::message query) {
  caf::scoped_actor self{system, true};  // hidden: not counted by await_all_actors_done
  boost::json::value result;
  std::string failure;
  self->request(directory, std::chrono::seconds(5), std::move(query))
      .receive([&](boost::json::value& v) { result = std::move(v); },
               [&](caf::error& err) { failure = system.render(err); });
  if (!failure.empty()) throw std::runtime_error("presence query failed: " + failure);
  return result;
}

}  // namespace

boost::json::object server::presence_list(std::string_view topic) const {
  auto& s = *impl_;
  if (!s.started || s.stopped) throw std::logic_error("server is not running");
  auto v = ask_presence(*s.system, s.directory,
                        caf::make_message(actors::presence_atom::value, std::string(topic)));
  return v.is_object() ? std::move(v.get_object()) : boost::json::object();
}

std::optional<boost::json::object> server::presence_get(std::string_view topic,
                                                        std::string_view key) const {
  auto& s = *impl_;
  if (!s.started || s.stopped) throw std::logic_error("server is not running");
  auto v = ask_presence(*s.system, s.directory,
                        caf::make_message(actors::presence_atom::value, std::string(topic),
                                          std::string(key)));
  if (!v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

history_page server::history(std::string_view topic, std::uint64_t since,
                             std::size_t limit) const {
  auto& s = *impl_;
  if (!s.started || s.stopped) throw std::logic_error("server is not running");
  caf::scoped_actor self{*s.system, true};
  history_page page;
  std::string failure;
  self->request(s.store, std::chrono::seconds(5), store::read_atom::value, std::string(topic),
                since, static_cast<std::uint64_t>(limit), false)
      .receive([&](history_page& p) { page = std::move(p); },
               [&](caf::error& err) { failure = s.system->render(err); });
  if (!failure.empty()) throw std::runtime_error("history unavailable: " + failure);
  return page;
}

void server::reload_tls() {
  auto& s = *impl_;
  if (!s.tls) throw std::logic_error("server::reload_tls: TLS is not configured");
  s.tls->reload();
  log::info("tls", "certificates reloaded", {{"cert", s.options.tls.cert_file}});
}

std::vector<cluster_member> server::cluster_members() const {
  auto& s = *impl_;
  if (!s.cluster_agent) return {{"local", 0, true, {}}};
  std::vector<cluster_member> out;
  caf::scoped_actor self{*s.system, true};
  self->request(s.cluster_agent, std::chrono::seconds(5), cluster::members_atom::value)
      .receive(
          [&](cluster::node_records& records) {
            for (std::size_t i = 0; i < records.size(); ++i)
              out.push_back({records[i].node, records[i].incarnation, i == 0, records[i].serves});
          },
          [&](caf::error& err) {
            throw std::runtime_error("cluster agent: " + s.system->render(err));
          });
  return out;
}

std::string server::cluster_node() const { return impl_->cluster_node; }

std::string server::owner_of(std::string_view topic) const {
  std::vector<cluster::placement_member> members;
  for (auto& m : cluster_members()) members.push_back({std::move(m.node), std::move(m.serves)});
  bool remote_only = false;
  for (const auto& route : impl_->channels)
    if (actors::topic_matches(route.pattern, topic)) {
      remote_only = route.remote_only;
      break;
    }
  return cluster::place(topic, members, remote_only).value_or("");
}

bool server::storage_healthy() const { return impl_->store_health->healthy.load(); }

server_stats server::stats() const { return impl_->counters->snapshot(); }

void server::block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void server::run_until_signal() {
  // Threads inherit the signal mask: blocked before start(), SIGINT/SIGTERM reach
  // only sigwait below. (No signal pipe: it would need a free descriptor.)
  if (!impl_->started) {
    block_termination_signals();
    start();
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  for (;;) {
    sigwait(&set, &sig);
    if (sig != SIGHUP) break;
    // SIGHUP: new certificates for new connections; open ones keep theirs.
    if (!impl_->tls) {
      log::info("server", "SIGHUP ignored: TLS is not configured");
      continue;
    }
    try {
      reload_tls();
    } catch (const std::exception& e) {
      log::error("tls", "reload failed; keeping the current certificates", {{"error", e.what()}});
    }
  }
  log::info("server", "signal received", {{"signal", std::to_string(sig)}});
  if (sig == SIGTERM)
    drain();  // an orchestrator's stop: hand clients over gradually
  else
    stop();
}

}  // namespace roomcast
