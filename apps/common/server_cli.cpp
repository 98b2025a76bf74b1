#include "server_cli.hpp"

#include "roomcast/logging.hpp"

#include <boost/program_options.hpp>

#include <cctype>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace roomcast::cli {

namespace po = boost::program_options;

namespace {

/// Options held in unsigned types: program_options would turn "-1" into a huge
/// number, so a leading '-' is refused in every source.
void refuse_negative(const po::parsed_options& parsed) {
  static const char* const unsigned_options[] = {
      "port", "cluster-port", "io-threads", "actor-threads", "outbound-budget-bytes", "max-connections",
      "max-connections-per-ip", "max-frame-bytes", "retention-messages", "proxy-max-in-flight"};
  for (const auto& option : parsed.options)
    for (const char* name : unsigned_options)
      if (option.string_key == name)
        for (const auto& token : option.value)
          if (token.find('-') != std::string::npos)
            throw std::runtime_error("the argument ('" + token + "') for option '" + name +
                                     "' is invalid: it must be a non-negative integer");
}

/// ROOMCAST_MAX_FRAME_BYTES -> max-frame-bytes.
std::string option_name_of(std::string_view variable) {
  std::string name;
  for (char c : variable.substr(9))
    name += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

const char* client_certs_name(client_cert_mode m) {
  switch (m) {
    case client_cert_mode::optional: return "optional";
    case client_cert_mode::required: return "required";
    case client_cert_mode::none: break;
  }
  return "none";
}

const char* policy_name(overflow_policy p) {
  switch (p) {
    case overflow_policy::drop: return "drop";
    case overflow_policy::drop_oldest: return "drop_oldest";
    case overflow_policy::close: break;
  }
  return "close";
}

/// The effective configuration as a config file (what --config reads back);
/// API keys are not printed.
std::string config_text(const server_options& o, const std::string& log_level) {
  std::ostringstream out;
  auto ms = [](std::chrono::milliseconds d) { return d.count(); };
  out << "host = " << o.host << "\n"
      << "port = " << o.port << "\n"
      << "heartbeat-timeout-ms = " << ms(o.heartbeat_timeout) << "\n"
      << "io-threads = " << o.io_threads << "\n"
      << "actor-threads = " << o.actor_threads << "\n"
      << "presence-window-ms = " << ms(o.presence_window) << "\n"
      << "idle-park-ms = " << ms(o.idle_park_after) << "\n"
      << "handshake-timeout-ms = " << ms(o.handshake_timeout) << "\n"
      << "outbound-budget-bytes = " << o.outbound_budget_bytes << "\n"
      << "overflow = " << policy_name(o.overflow) << "\n"
      << "max-pushes-per-second = " << o.max_pushes_per_second << "\n"
      << "max-connections = " << o.max_connections << "\n"
      << "max-connections-per-ip = " << o.max_connections_per_ip << "\n"
      << "max-frame-bytes = " << o.max_frame_bytes << "\n"
      << "drain-window-ms = " << ms(o.drain_window) << "\n"
      << "data-dir = " << o.data_dir << "\n";
  if (!o.store.path.empty()) out << "store-path = " << o.store.path << "\n";
  for (const auto& rule : o.store.durable) out << "durable = " << rule.pattern << "\n";
  out << "retention-messages = " << o.store.default_retention.max_messages << "\n"
      << "retention-age-s = " << o.store.default_retention.max_age.count() << "\n"
      << "store-sync = " << (o.store.sync == store_sync::full ? "full" : "normal") << "\n"
      << "log-level = " << log_level << "\n";
  if (!o.tokens.algorithm.empty()) {
    out << "token-algorithm = " << o.tokens.algorithm << "\n";
    if (!o.tokens.public_key_file.empty())
      out << "token-public-key = " << o.tokens.public_key_file << "\n";
    if (!o.tokens.audience.empty()) out << "token-audience = " << o.tokens.audience << "\n";
    if (!o.tokens.issuer.empty()) out << "token-issuer = " << o.tokens.issuer << "\n";
    out << "token-leeway-s = " << o.tokens.leeway.count() << "\n";
    if (!o.tokens.required) out << "token-optional = true\n";
    if (!o.tokens.secret.empty()) out << "# token-secret: set (not printed)\n";
  }
  if (o.tls.enabled()) {
    out << "tls-cert = " << o.tls.cert_file << "\n"
        << "tls-key = " << o.tls.key_file << "\n";
    if (!o.tls.client_ca_file.empty()) out << "tls-client-ca = " << o.tls.client_ca_file << "\n";
    out << "tls-client-certs = " << client_certs_name(o.tls.client_certs) << "\n";
    if (o.tls.allow_plain) out << "tls-allow-plain = true\n";
  }
  if (o.cluster.enabled()) {
    out << "cluster = true\n"
        << "cluster-port = " << o.cluster.port << "\n"
        << "cluster-host = " << o.cluster.host << "\n";
    if (!o.cluster.advertise.empty()) out << "cluster-advertise = " << o.cluster.advertise << "\n";
    for (const auto& peer : o.cluster.peers) out << "peers = " << peer << "\n";
    for (const auto& pattern : o.cluster.serves) out << "serves = " << pattern << "\n";
    if (o.cluster.tls()) {
      out << "cluster-tls-cert = " << o.cluster.tls_cert << "\n"
          << "cluster-tls-key = " << o.cluster.tls_key << "\n"
          << "cluster-tls-ca = " << o.cluster.tls_ca << "\n";
    }
    out << "cluster-heartbeat-ms = " << o.cluster.heartbeat.count() << "\n"
        << "cluster-failure-timeout-ms = " << o.cluster.failure_timeout.count() << "\n";
  }
  for (const auto& p : o.gateway.proxies) out << "proxy = " << p.pattern << "=" << p.backend.url << "\n";
  if (!o.gateway.connect.url.empty()) out << "connect-proxy = " << o.gateway.connect.url << "\n";
  for (const auto& pattern : o.gateway.remote_channels) out << "remote-channel = " << pattern << "\n";
  if (!o.gateway.proxies.empty() || !o.gateway.connect.url.empty()) {
    const auto& b = o.gateway.proxies.empty() ? o.gateway.connect : o.gateway.proxies.front().backend;
    out << "proxy-timeout-ms = " << b.timeout.count() << "\n"
        << "proxy-max-in-flight = " << b.max_in_flight << "\n";
  }
  for (const auto& origin : o.allowed_origins) out << "allowed-origin = " << origin << "\n";
  for (const auto& rule : o.topic_rules) out << "topic-rule = " << rule << "\n";
  out << "# api-key: " << o.api_keys.size() << " configured (not printed)\n";
  return out.str();
}

}  // namespace

std::optional<int> parse(int argc, char** argv, const std::string& program,
                         server_options& options, const std::vector<text_option>& texts,
                         const std::vector<number_option>& numbers) {
  po::options_description desc("Usage: " + program + " [options]");
  unsigned port = options.port;
  long heartbeat_ms = static_cast<long>(options.heartbeat_timeout.count());
  long presence_window_ms = static_cast<long>(options.presence_window.count());
  long idle_park_ms = static_cast<long>(options.idle_park_after.count());
  long handshake_ms = static_cast<long>(options.handshake_timeout.count());
  long drain_ms = static_cast<long>(options.drain_window.count());
  std::string overflow = options.overflow == overflow_policy::drop          ? "drop"
                         : options.overflow == overflow_policy::drop_oldest ? "drop_oldest"
                                                                            : "close";
  std::vector<std::string> durable;
  std::uint64_t retention_messages = options.store.default_retention.max_messages;
  long retention_age_s = static_cast<long>(options.store.default_retention.max_age.count());
  std::string sync_mode = options.store.sync == store_sync::full ? "full" : "normal";
  std::string log_level = "info";
  if (const char* v = std::getenv("ROOMCAST_LOG_LEVEL")) log_level = v;
  bool print_config = false;
  long token_leeway_s = static_cast<long>(options.tokens.leeway.count());
  bool token_optional = !options.tokens.required;
  std::string client_certs = client_certs_name(options.tls.client_certs);
  unsigned cluster_port = options.cluster.port;
  std::vector<std::string> peers;
  std::vector<std::string> proxies;
  long proxy_timeout_ms = 3'000;
  std::size_t proxy_in_flight = 32;
  long cluster_heartbeat_ms = static_cast<long>(options.cluster.heartbeat.count());
  long failure_timeout_ms = static_cast<long>(options.cluster.failure_timeout.count());
  desc.add_options()
      ("help,h", "show this help")
      ("config", po::value<std::string>(),
       "read options from this file: 'name = value' lines, names as the flags' without --")
      ("print-config", po::bool_switch(&print_config),
       "print the effective configuration (as a config file) and exit")
      ("log-level", po::value<std::string>(&log_level)->default_value(log_level),
       "debug, info, warn or error")
      ("host", po::value<std::string>(&options.host)->default_value(options.host),
       "address to listen on")
      ("port", po::value<unsigned>(&port)->default_value(port), "port to listen on (0 = any free port)")
      ("heartbeat-timeout-ms", po::value<long>(&heartbeat_ms)->default_value(heartbeat_ms),
       "close sockets silent for this long (0 = never)")
      ("io-threads", po::value<unsigned>(&options.io_threads)->default_value(options.io_threads),
       "I/O threads (0 = one per core)")
      ("actor-threads", po::value<unsigned>(&options.actor_threads)->default_value(options.actor_threads),
       "actor scheduler threads (0 = one per core)")
      ("presence-window-ms", po::value<long>(&presence_window_ms)->default_value(presence_window_ms),
       "coalesce presence changes for this long into one presence_diff (0 = no delay)")
      ("idle-park-ms", po::value<long>(&idle_park_ms)->default_value(idle_park_ms),
       "plain sockets quiet this long set their WebSocket state aside (0 = never)")
      ("handshake-timeout-ms", po::value<long>(&handshake_ms)->default_value(handshake_ms),
       "limit for the HTTP request, the upgrade and the closing handshake")
      ("outbound-budget-bytes", po::value<std::size_t>(&options.outbound_budget_bytes)->default_value(options.outbound_budget_bytes),
       "unsent bytes a socket may queue before the overflow policy applies")
      ("overflow", po::value<std::string>(&overflow)->default_value(overflow),
       "default overflow policy: close (1013), drop or drop_oldest")
      ("max-pushes-per-second", po::value<double>(&options.max_pushes_per_second)->default_value(options.max_pushes_per_second),
       "per-socket push rate limit (0 = none)")
      ("max-connections", po::value<std::size_t>(&options.max_connections)->default_value(options.max_connections),
       "open sockets per server; more get HTTP 503 (0 = no limit)")
      ("max-connections-per-ip", po::value<std::size_t>(&options.max_connections_per_ip)->default_value(options.max_connections_per_ip),
       "open sockets per remote address; more get HTTP 429 (0 = no limit)")
      ("max-frame-bytes", po::value<std::size_t>(&options.max_frame_bytes)->default_value(options.max_frame_bytes),
       "largest accepted WebSocket message")
      ("drain-window-ms", po::value<long>(&drain_ms)->default_value(drain_ms),
       "on SIGTERM, close sockets (1012) in batches over this window")
      ("data-dir", po::value<std::string>(&options.data_dir)->default_value(options.data_dir),
       "directory for the server's files (the SQLite database by default)")
      ("store-path", po::value<std::string>(&options.store.path),
       "SQLite database file (default: DATA_DIR/roomcast.db)")
      ("durable", po::value<std::vector<std::string>>(&durable)->composing(),
       "durable topic pattern, e.g. 'room:*' (repeatable): broadcasts are stored, numbered and acknowledged after commit")
      ("retention-messages", po::value<std::uint64_t>(&retention_messages)->default_value(retention_messages),
       "messages kept per durable topic (0 = no count limit)")
      ("retention-age-s", po::value<long>(&retention_age_s)->default_value(retention_age_s),
       "seconds a durable message is kept (0 = no age limit)")
      ("store-sync", po::value<std::string>(&sync_mode)->default_value(sync_mode),
       "full: fsync at every commit (survives power loss); normal: survives a killed process")
      ("token-algorithm", po::value<std::string>(&options.tokens.algorithm),
       "verify a JWT at connect (?token= or phoenix.js authToken): HS256, RS256 or ES256")
      ("token-secret", po::value<std::string>(&options.tokens.secret), "HS256: the shared secret")
      ("token-public-key", po::value<std::string>(&options.tokens.public_key_file),
       "RS256/ES256: PEM file of the verification key")
      ("token-audience", po::value<std::string>(&options.tokens.audience), "required \"aud\"")
      ("token-issuer", po::value<std::string>(&options.tokens.issuer), "required \"iss\"")
      ("token-leeway-s", po::value<long>(&token_leeway_s)->default_value(token_leeway_s),
       "clock skew allowed for exp and nbf, in seconds")
      ("token-optional", po::bool_switch(&token_optional),
       "sockets without a token connect anonymously (a bad token is still refused)")
      ("tls-cert", po::value<std::string>(&options.tls.cert_file),
       "serve wss:// and https://: certificate chain (PEM, leaf first); re-read on SIGHUP")
      ("tls-key", po::value<std::string>(&options.tls.key_file), "the certificate's private key (PEM)")
      ("tls-client-ca", po::value<std::string>(&options.tls.client_ca_file),
       "CAs (PEM) that client certificates must chain to")
      ("tls-client-certs", po::value<std::string>(&client_certs)->default_value(client_certs),
       "none, optional or required")
      ("tls-allow-plain", po::bool_switch(&options.tls.allow_plain),
       "also serve plain http:// and ws:// on the TLS port (detected per connection)")
      ("cluster", po::bool_switch(&options.cluster.enable),
       "be a cluster node (implied by --cluster-port or --peers; docs/cluster.md)")
      ("cluster-port", po::value<unsigned>(&cluster_port)->default_value(cluster_port),
       "cluster node on this port (CAF remoting; 0: any free port)")
      ("cluster-host", po::value<std::string>(&options.cluster.host)->default_value(options.cluster.host),
       "address the cluster port binds to")
      ("cluster-advertise", po::value<std::string>(&options.cluster.advertise),
       "host:port other nodes reach this one by (default: cluster-host and the bound port)")
      ("peers", po::value<std::vector<std::string>>(&peers)->composing(),
       "seed nodes host:port[,host:port...] (repeatable); any one that is up gives the membership")
      ("cluster-heartbeat-ms", po::value<long>(&cluster_heartbeat_ms)->default_value(cluster_heartbeat_ms),
       "heartbeat between nodes")
      ("cluster-failure-timeout-ms", po::value<long>(&failure_timeout_ms)->default_value(failure_timeout_ms),
       "a node silent this long leaves the membership (a dead one leaves at once)")
      ("cluster-tls-cert", po::value<std::string>(&options.cluster.tls_cert),
       "TLS between nodes: this node's certificate (PEM); with --cluster-tls-key and --cluster-tls-ca")
      ("cluster-tls-key", po::value<std::string>(&options.cluster.tls_key), "its private key (PEM)")
      ("cluster-tls-ca", po::value<std::string>(&options.cluster.tls_ca),
       "the CA every node's certificate must chain to (PEM)")
      ("serves", po::value<std::vector<std::string>>(&options.cluster.serves)->composing(),
       "be a service node: own the topics matching this pattern (repeatable) and no others; the app's channel for it runs here (docs/gateway.md)")
      ("remote-channel", po::value<std::vector<std::string>>(&options.gateway.remote_channels)->composing(),
       "topics matching this pattern are served by a service node of the cluster (repeatable)")
      ("topic-rule", po::value<std::vector<std::string>>(&options.topic_rules)->composing(),
       "join authorization: 'room:*', 'user:{sub}' or 'admin:* role=admin' (repeatable; none: channels decide)")
      ("allowed-origin", po::value<std::vector<std::string>>(&options.allowed_origins)->composing(),
       "browser origin allowed to open WebSockets, e.g. https://chat.example.com or https://*.example.com (repeatable; none: no check)")
      ("api-key", po::value<std::vector<std::string>>(&options.api_keys)->composing(),
       "key accepted by /api/* as 'Authorization: Bearer KEY' (repeatable)")
      ("proxy", po::value<std::vector<std::string>>(&proxies)->composing(),
       "proxy channel PATTERN=URL: a backend decides joins and events of matching topics, e.g. 'orders:*=http://127.0.0.1:9000/roomcast' (repeatable; docs/gateway.md)")
      ("connect-proxy", po::value<std::string>(&options.gateway.connect.url),
       "URL of a backend that decides every WebSocket connect (POST URL/connect)")
      ("proxy-timeout-ms", po::value<long>(&proxy_timeout_ms)->default_value(proxy_timeout_ms),
       "timeout of each backend call")
      ("proxy-max-in-flight", po::value<std::size_t>(&proxy_in_flight)->default_value(proxy_in_flight),
       "backend calls at a time, per backend (the rest wait)");
  for (const auto& t : texts)
    desc.add_options()(t.name.c_str(), po::value<std::string>(t.value)->default_value(*t.value),
                       t.help.c_str());
  for (const auto& n : numbers)
    desc.add_options()(n.name.c_str(), po::value<long>(n.value)->default_value(*n.value),
                       n.help.c_str());
  po::variables_map vm;
  std::vector<std::string> unknown_variables;
  try {
    // Precedence: flags, then ROOMCAST_* variables, then the file, then the
    // defaults (program_options keeps the first value stored for an option;
    // repeatable ones (--durable, --topic-rule, --allowed-origin, --api-key) collect from every source).
    auto from_flags = po::parse_command_line(argc, argv, desc);
    refuse_negative(from_flags);
    po::store(from_flags, vm);
    auto from_env = po::parse_environment(desc,
                                    [&](const std::string& variable) -> std::string {
                                      if (!variable.starts_with("ROOMCAST_")) return {};
                                      // An empty value (an unset template variable) must not
                                      // override the file: it could switch a check off.
                                      if (const char* v = std::getenv(variable.c_str()); !v || !*v)
                                        return {};
                                      auto name = option_name_of(variable);
                                      if (name != "help" && name != "print-config" &&
                                          desc.find_nothrow(name, false))
                                        return name;
                                      unknown_variables.push_back(variable);
                                      return {};
                                    });
    refuse_negative(from_env);
    po::store(from_env, vm);
    if (vm.count("config")) {
      const auto& path = vm["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) throw std::runtime_error("cannot read config file " + path);
      auto from_file = po::parse_config_file(file, desc, false);
      refuse_negative(from_file);
      po::store(from_file, vm);
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 2;
  }
  for (const auto& variable : unknown_variables)
    std::cerr << program << ": ignoring environment variable " << variable << " (no such option)\n";
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (port > 65535) {
    std::cerr << program << ": --port must be 0..65535\n";
    return 2;
  }
  const std::pair<const char*, long> durations[] = {
      {"heartbeat-timeout-ms", heartbeat_ms}, {"presence-window-ms", presence_window_ms},
      {"idle-park-ms", idle_park_ms},
      {"drain-window-ms", drain_ms},          {"retention-age-s", retention_age_s},
      {"token-leeway-s", token_leeway_s},     {"cluster-heartbeat-ms", cluster_heartbeat_ms},
      {"cluster-failure-timeout-ms", failure_timeout_ms}};
  for (const auto& [name, value] : durations)
    if (value < 0) {
      std::cerr << program << ": --" << name << " must be >= 0\n";
      return 2;
    }
  options.presence_window = std::chrono::milliseconds(presence_window_ms);
  options.idle_park_after = std::chrono::milliseconds(idle_park_ms);
  if (handshake_ms <= 0) {
    std::cerr << program << ": --handshake-timeout-ms must be > 0\n";
    return 2;
  }
  options.handshake_timeout = std::chrono::milliseconds(handshake_ms);
  options.drain_window = std::chrono::milliseconds(drain_ms);
  if (overflow == "close") options.overflow = overflow_policy::close;
  else if (overflow == "drop") options.overflow = overflow_policy::drop;
  else if (overflow == "drop_oldest") options.overflow = overflow_policy::drop_oldest;
  else {
    std::cerr << program << ": --overflow must be close, drop or drop_oldest\n";
    return 2;
  }
  options.store.default_retention = {retention_messages, std::chrono::seconds(retention_age_s)};
  for (auto& pattern : durable)
    options.store.durable.push_back({std::move(pattern), options.store.default_retention});
  if (sync_mode == "full") options.store.sync = store_sync::full;
  else if (sync_mode == "normal") options.store.sync = store_sync::normal;
  else {
    std::cerr << program << ": --store-sync must be full or normal\n";
    return 2;
  }
  if (client_certs == "none") options.tls.client_certs = client_cert_mode::none;
  else if (client_certs == "optional") options.tls.client_certs = client_cert_mode::optional;
  else if (client_certs == "required") options.tls.client_certs = client_cert_mode::required;
  else {
    std::cerr << program << ": --tls-client-certs must be none, optional or required\n";
    return 2;
  }
  if (cluster_port > 65535) {
    std::cerr << program << ": --cluster-port must be 0..65535\n";
    return 2;
  }
  options.cluster.port = static_cast<std::uint16_t>(cluster_port);
  if (!vm["cluster-port"].defaulted()) options.cluster.enable = true;
  for (const auto& list : peers) {
    std::stringstream items(list);
    for (std::string peer; std::getline(items, peer, ',');)
      if (!peer.empty()) options.cluster.peers.push_back(peer);
  }
  if (proxy_timeout_ms <= 0 || proxy_in_flight == 0) {
    std::cerr << program << ": --proxy-timeout-ms and --proxy-max-in-flight must be > 0\n";
    return 2;
  }
  auto backend = [&](std::string url) {
    backend_settings b;
    b.url = std::move(url);
    b.timeout = std::chrono::milliseconds(proxy_timeout_ms);
    b.max_in_flight = proxy_in_flight;
    return b;
  };
  for (const auto& spec : proxies) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      std::cerr << program << ": --proxy must be PATTERN=URL, got '" << spec << "'\n";
      return 2;
    }
    options.gateway.proxies.push_back({spec.substr(0, eq), backend(spec.substr(eq + 1))});
  }
  if (!options.gateway.connect.url.empty())
    options.gateway.connect = backend(options.gateway.connect.url);
  options.cluster.heartbeat = std::chrono::milliseconds(cluster_heartbeat_ms);
  options.cluster.failure_timeout = std::chrono::milliseconds(failure_timeout_ms);
  options.tokens.leeway = std::chrono::seconds(token_leeway_s);
  options.tokens.required = !token_optional;
  if (!set_log_level(log_level)) {
    std::cerr << program << ": --log-level must be debug, info, warn or error\n";
    return 2;
  }
  options.port = static_cast<std::uint16_t>(port);
  options.heartbeat_timeout = std::chrono::milliseconds(heartbeat_ms);
  if (print_config) {
    std::cout << config_text(options, log_level);
    for (const auto& t : texts) std::cout << t.name << " = " << *t.value << "\n";
    for (const auto& n : numbers) std::cout << n.name << " = " << *n.value << "\n";
    return 0;
  }
  return std::nullopt;
}

int run(server& srv) {
  server::block_termination_signals();  // before any server thread exists
  try {
    srv.start();
  } catch (const std::exception& e) {
    std::cerr << "cannot start: " << e.what() << "\n";
    return 1;
  }
  const std::string& host = srv.options().host;
  bool ipv6 = host.find(':') != std::string::npos;
  std::printf("listening on %s://%s%s%s:%u\n", srv.options().tls.enabled() ? "https" : "http",
              ipv6 ? "[" : "", host.c_str(), ipv6 ? "]" : "",
              static_cast<unsigned>(srv.port()));
  if (auto node = srv.cluster_node(); !node.empty()) std::printf("cluster node %s\n", node.c_str());
  std::fflush(stdout);
  srv.run_until_signal();
  return 0;
}

}  // namespace roomcast::cli
