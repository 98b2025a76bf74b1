// roomcast-bench: a load generator for Roomcast (and, for the raw scenarios, any
// WebSocket server). Loopback only; every run is bounded in count and time.
// Prints a readable summary and, last, one JSON line with every figure.
#include "bench.hpp"

#include <boost/json/serialize.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <iostream>
#include <map>
#include <sstream>

namespace po = boost::program_options;
using namespace roomcast::bench;

namespace {

void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void print_summary(const json::object& r, const std::string& indent = "  ") {
  for (const auto& [key, value] : r) {
    if (value.is_object()) {
      std::cout << indent << key << ":\n";
      print_summary(value.as_object(), indent + "  ");
    } else {
      std::cout << indent << key << ": " << json::serialize(value) << "\n";
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::map<std::string, scenario> scenarios = {
      {"presence", run_presence}, {"joins", run_joins},         {"idle", run_idle},
      {"echo", run_echo},         {"broadcast", run_broadcast}, {"fanout", run_fanout},
      {"durable", run_durable},   {"store", run_store},         {"arena", run_arena},
  };
  options o;
  std::string path;
  unsigned port = o.port;
  po::options_description desc(
      "Usage: roomcast-bench --scenario NAME [options]\n"
      "Scenarios: presence, joins, idle (Phoenix); echo, broadcast (raw); fanout, durable (Phoenix); store (in-process SQLite); arena (roomcast-arena bots)");
  desc.add_options()
      ("help,h", "show this help")
      ("scenario", po::value(&o.scenario)->required(), "what to run")
      ("host", po::value(&o.host)->default_value(o.host), "server address (loopback)")
      ("port", po::value(&port)->default_value(port), "server port")
      ("ports", po::value<std::string>(), "comma-separated ports: connection i goes to port i mod count (a cluster's nodes; publishers are the first connections)")
      ("path", po::value(&path), "upgrade target (default: /socket/websocket?vsn=2.0.0, raw: /)")
      ("connections,n", po::value(&o.connections)->default_value(o.connections), "client connections")
      ("publishers,m", po::value(&o.publishers)->default_value(o.publishers), "fanout: publishing members")
      ("rate", po::value(&o.rate)->default_value(o.rate), "fanout: broadcasts per second, all publishers")
      ("payload-bytes", po::value(&o.payload_bytes)->default_value(o.payload_bytes), "message payload size")
      ("rounds", po::value(&o.rounds)->default_value(o.rounds), "broadcast: rounds")
      ("duration-s", po::value(&o.duration_s)->default_value(o.duration_s), "echo/fanout/durable: seconds of load")
      ("timeout-s", po::value(&o.timeout_s)->default_value(o.timeout_s), "bound for any wait")
      ("topic", po::value(&o.topic)->default_value(o.topic), "Phoenix topic")
      ("window", po::value(&o.window)->default_value(o.window), "durable: pushes in flight per connection")
      ("store-sync", po::value<std::string>()->default_value("full"), "store: full or normal")
      ("tick-ms", po::value(&o.tick_ms)->default_value(o.tick_ms), "arena: the server's tick period")
      ("threads", po::value(&o.threads)->default_value(o.threads), "client I/O threads")
      ("server-pid", po::value(&o.server_pid)->default_value(0), "idle: server process to measure")
      ("settle-s", po::value(&o.settle_s)->default_value(o.settle_s), "idle: seconds between the last join and the measurement")
      ("label", po::value(&o.label), "free text copied into the JSON line");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-bench: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  o.store_sync_full = vm["store-sync"].as<std::string>() != "normal";
  auto it = scenarios.find(o.scenario);
  if (it == scenarios.end() || port == 0 || port > 65535 || o.connections == 0) {
    std::cerr << "roomcast-bench: unknown scenario or bad --port/--connections\n";
    return 2;
  }
  o.port = static_cast<std::uint16_t>(port);
  if (vm.count("ports")) {
    std::stringstream list(vm["ports"].as<std::string>());
    for (std::string item; std::getline(list, item, ',');) {
      unsigned long p = 0;
      try {
        p = std::stoul(item);
      } catch (const std::exception&) {
      }
      if (p == 0 || p > 65535) {
        std::cerr << "roomcast-bench: bad port in --ports: " << item << "\n";
        return 2;
      }
      o.ports.push_back(static_cast<std::uint16_t>(p));
    }
  }
  bool raw = o.scenario == "echo" || o.scenario == "broadcast";
  o.path = vm.count("path") ? path : (raw ? "/" : o.path);
  raise_fd_limit();

  json::object result;
  try {
    result = it->second(o);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-bench: " << o.scenario << " failed: " << e.what() << "\n";
    return 1;
  }
  json::object line{{"scenario", o.scenario}, {"label", o.label}};
  for (auto& [k, v] : result) line[k] = v;
  std::cout << "roomcast-bench " << o.scenario << (o.label.empty() ? "" : " [" + o.label + "]")
            << "\n";
  print_summary(result);
  std::cout << json::serialize(line) << std::endl;
  return 0;
}
