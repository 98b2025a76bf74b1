#include "cluster/cluster_nodes.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace roomcast::testing {

namespace json = boost::json;
using namespace std::chrono_literals;

json::value node::cluster(const std::string& topic) const {
  auto res = http_get(http_port, "/api/cluster" + (topic.empty() ? "" : "?topic=" + topic),
                      std::string("Authorization: Bearer ") + cluster_api_key + "\r\n");
  if (res.status != 200) return nullptr;
  return json::parse(res.body);
}

std::set<std::string> node::members() const {
  std::set<std::string> out;
  auto c = cluster();
  if (c.is_object())
    for (const auto& m : c.at("members").as_array()) out.insert(std::string(m.at("node").as_string()));
  return out;
}

std::uint64_t node::incarnation_of(const std::string& who) const {
  auto view = cluster();  // kept alive: the loop walks into it
  for (const auto& m : view.at("members").as_array())
    if (m.at("node").as_string() == who) return m.at("incarnation").to_number<std::uint64_t>();
  return 0;
}

std::string node::owner(const std::string& topic) const {
  auto view = cluster(topic);
  return view.is_object() ? std::string(view.at("owner").as_string()) : std::string();
}

std::unique_ptr<client> node::connect() const {
  client::options opts;
  opts.port = http_port;
  return client::connect(opts);
}

node start_node(const std::vector<std::string>& peers, std::uint16_t cluster_port,
                const std::vector<std::string>& extra) {
  return start_program_node(ROOMCAST_SERVER_BIN, peers, cluster_port, extra);
}

node start_program_node(const std::string& program, const std::vector<std::string>& peers,
                        std::uint16_t cluster_port, const std::vector<std::string>& extra) {
  std::vector<std::string> args{"--host", "127.0.0.1", "--port", "0", "--cluster-port",
                                std::to_string(cluster_port), "--api-key", cluster_api_key,
                                "--log-level", "warn", "--data-dir", "/tmp"};
  std::string list;
  for (const auto& p : peers) list += (list.empty() ? "" : ",") + p;
  if (!list.empty()) args.insert(args.end(), {"--peers", list});
  args.insert(args.end(), extra.begin(), extra.end());
  node n;
  n.proc = spawn_program(program, args);
  n.http_port = listening_port(*n.proc);
  auto line = n.proc->read_line(5s);
  const std::string prefix = "cluster node ";
  EXPECT_TRUE(line.starts_with(prefix)) << line << n.proc->drain_stderr();
  n.name = line.substr(prefix.size());
  return n;
}

std::set<std::string> names(std::initializer_list<const node*> nodes) {
  std::set<std::string> out;
  for (const auto* n : nodes) out.insert(n->name);
  return out;
}

std::vector<node> start_cluster(std::size_t count) {
  std::vector<node> nodes;
  nodes.push_back(start_node({}));
  for (std::size_t i = 1; i < count; ++i) nodes.push_back(start_node({nodes.front().name}));
  std::set<std::string> all;
  for (const auto& n : nodes) all.insert(n.name);
  for (const auto& n : nodes)
    EXPECT_TRUE(within(5s, [&] { return n.members() == all; }))
        << n.name << " sees " << json::serialize(n.cluster());
  return nodes;
}

}  // namespace roomcast::testing
