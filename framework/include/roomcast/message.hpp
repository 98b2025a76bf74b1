#pragma once
// One Phoenix Channels v2 message: the five-element envelope
// [join_ref, ref, topic, event, payload], or a v2 binary frame.

#include <boost/json/value.hpp>

#include <optional>
#include <string>

namespace roomcast {

struct message {
  std::optional<std::string> join_ref;  ///< ref of the phx_join that opened the channel
  std::optional<std::string> ref;       ///< per-push ref; replies echo it
  std::string topic;
  std::string event;
  boost::json::value payload;           ///< JSON payload; for binary replies {"status": ...}
  std::optional<std::string> binary;    ///< raw payload bytes of a binary frame

  [[nodiscard]] bool is_binary() const noexcept { return binary.has_value(); }
};

}  // namespace roomcast
