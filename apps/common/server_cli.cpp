#include "server_cli.hpp"

#include <boost/program_options.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <vector>

namespace roomcast::cli {

namespace po = boost::program_options;

std::optional<int> parse(int argc, char** argv, const std::string& program,
                         server_options& options) {
  po::options_description desc("Usage: " + program + " [options]");
  unsigned port = options.port;
  long heartbeat_ms = static_cast<long>(options.heartbeat_timeout.count());
  long presence_window_ms = static_cast<long>(options.presence_window.count());
  long handshake_ms = static_cast<long>(options.handshake_timeout.count());
  long drain_ms = static_cast<long>(options.drain_window.count());
  std::string overflow = options.overflow == overflow_policy::drop          ? "drop"
                         : options.overflow == overflow_policy::drop_oldest ? "drop_oldest"
                                                                            : "close";
  std::vector<std::string> durable;
  std::uint64_t retention_messages = options.store.default_retention.max_messages;
  long retention_age_s = static_cast<long>(options.store.default_retention.max_age.count());
  std::string sync_mode = options.store.sync == store_sync::full ? "full" : "normal";
  desc.add_options()
      ("help,h", "show this help")
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
      ("api-key", po::value<std::vector<std::string>>(&options.api_keys)->composing(),
       "key accepted by /api/* as 'Authorization: Bearer KEY' (repeatable)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (port > 65535) {
    std::cerr << program << ": --port must be 0..65535\n";
    return 2;
  }
  if (heartbeat_ms < 0) {
    std::cerr << program << ": --heartbeat-timeout-ms must be >= 0\n";
    return 2;
  }
  if (presence_window_ms < 0) {
    std::cerr << program << ": --presence-window-ms must be >= 0\n";
    return 2;
  }
  options.presence_window = std::chrono::milliseconds(presence_window_ms);
  if (handshake_ms <= 0) {
    std::cerr << program << ": --handshake-timeout-ms must be > 0\n";
    return 2;
  }
  options.handshake_timeout = std::chrono::milliseconds(handshake_ms);
  if (drain_ms < 0) {
    std::cerr << program << ": --drain-window-ms must be >= 0\n";
    return 2;
  }
  options.drain_window = std::chrono::milliseconds(drain_ms);
  if (overflow == "close") options.overflow = overflow_policy::close;
  else if (overflow == "drop") options.overflow = overflow_policy::drop;
  else if (overflow == "drop_oldest") options.overflow = overflow_policy::drop_oldest;
  else {
    std::cerr << program << ": --overflow must be close, drop or drop_oldest\n";
    return 2;
  }
  if (retention_age_s < 0) {
    std::cerr << program << ": --retention-age-s must be >= 0\n";
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
  options.port = static_cast<std::uint16_t>(port);
  options.heartbeat_timeout = std::chrono::milliseconds(heartbeat_ms);
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
  std::printf("listening on http://%s%s%s:%u\n", ipv6 ? "[" : "", host.c_str(), ipv6 ? "]" : "",
              static_cast<unsigned>(srv.port()));
  std::fflush(stdout);
  srv.run_until_signal();
  return 0;
}

}  // namespace roomcast::cli
