#pragma once
// The immutable application setup every actor of a server shares: options,
// channel routes and raw handlers. Built before start(), never changed after.

#include "roomcast/channel.hpp"
#include "roomcast/raw.hpp"
#include "roomcast/server.hpp"
#include "auth/topic_rules.hpp"
#include "util/counters.hpp"

#include <memory>

#include <string>
#include <vector>

namespace roomcast::actors {

struct channel_route {
  std::string pattern;
  channel_factory factory;
  /// A remote channel: served by a service node of the cluster, never here.
  bool remote_only = false;
};

struct runtime {
  server_options options;
  std::vector<channel_route> channels;
  std::shared_ptr<util::counters> counters = std::make_shared<util::counters>();
  /// options.topic_rules, parsed once at start.
  std::vector<auth::topic_rule> topic_rules;

  /// The first route whose pattern matches `topic`, or nullptr.
  [[nodiscard]] const channel_route* find_channel(std::string_view topic) const;
  /// True when a store_options::durable rule matches `topic`.
  [[nodiscard]] bool is_durable(std::string_view topic) const;
};

}  // namespace roomcast::actors
