#pragma once
// Phoenix Channels v2 serializer: JSON text frames and v2 binary frames.
// Pure functions, no I/O. Text frames are [join_ref, ref, topic, event, payload];
// binary frames start with a kind byte (0 push, 1 reply, 2 broadcast) followed by
// one length byte per string field, the fields, then the raw payload.

#include "roomcast/message.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace roomcast::protocol {

// -- reserved names -----------------------------------------------------------

namespace events {
inline constexpr std::string_view join = "phx_join";
inline constexpr std::string_view leave = "phx_leave";
inline constexpr std::string_view reply = "phx_reply";
inline constexpr std::string_view error = "phx_error";
inline constexpr std::string_view close = "phx_close";
inline constexpr std::string_view heartbeat = "heartbeat";
inline constexpr std::string_view presence_state = "presence_state";
inline constexpr std::string_view presence_diff = "presence_diff";
/// Pushed on topic "phoenix" once a slow socket's backlog drained: {"count": N}
/// frames were dropped by their channel's overflow policy.
inline constexpr std::string_view frames_dropped = "frames_dropped";
}  // namespace events

inline constexpr std::string_view phoenix_topic = "phoenix";

// -- binary layout --------------------------------------------------------------

enum class binary_kind : unsigned char { push = 0, reply = 1, broadcast = 2 };

/// Every string field of a binary frame is prefixed by one length byte.
inline constexpr std::size_t max_binary_field = 255;

// -- decoding -------------------------------------------------------------------

struct decode_limits {
  std::size_t max_json_depth = 32;
};

/// Why a frame was rejected, plus whatever envelope fields could still be read so
/// that the error reply reaches the right push on the client.
struct decode_failure {
  std::string reason;  ///< a reason from protocol/errors.hpp
  std::optional<std::string> join_ref;
  std::optional<std::string> ref;
  std::string topic;
};

using decode_result = std::variant<message, decode_failure>;

/// A text frame sent by a client.
[[nodiscard]] decode_result decode_text(std::string_view frame, const decode_limits& limits);

/// A binary frame sent by a client (kind 0 with join_ref, ref, topic, event).
[[nodiscard]] decode_result decode_client_binary(std::string_view frame);

/// A binary frame sent by a server (kinds 0, 1, 2); used by the C++ client.
[[nodiscard]] decode_result decode_server_binary(std::string_view frame);

// -- encoding -------------------------------------------------------------------

using opt_ref = std::optional<std::string_view>;

/// A view of an optional string (a join_ref or ref kept by value).
[[nodiscard]] inline opt_ref view(const std::optional<std::string>& s) {
  return s ? opt_ref(*s) : std::nullopt;
}

/// [join_ref, ref, topic, event, payload] as JSON text.
[[nodiscard]] std::string encode_text(opt_ref join_ref, opt_ref ref, std::string_view topic,
                                      std::string_view event, const boost::json::value& payload);

/// Like encode_text, with a payload that is already JSON text (trusted: not checked).
[[nodiscard]] std::string encode_text_raw(opt_ref join_ref, opt_ref ref, std::string_view topic,
                                          std::string_view event, std::string_view payload_json);

/// [join_ref, ref, topic, "phx_reply", {"status": status, "response": response}].
[[nodiscard]] std::string encode_reply(opt_ref join_ref, opt_ref ref, std::string_view topic,
                                       std::string_view status,
                                       const boost::json::value& response);

/// Server -> client binary push: <<0, jr_len, topic_len, event_len, jr, topic, event, data>>.
/// Throws std::length_error when a field is longer than 255 bytes.
[[nodiscard]] std::string encode_binary_push(std::string_view join_ref, std::string_view topic,
                                             std::string_view event, std::string_view data);

/// Server -> client binary reply:
/// <<1, jr_len, ref_len, topic_len, status_len, jr, ref, topic, status, data>>.
[[nodiscard]] std::string encode_binary_reply(std::string_view join_ref, std::string_view ref,
                                              std::string_view topic, std::string_view status,
                                              std::string_view data);

/// Server -> client binary broadcast: <<2, topic_len, event_len, topic, event, data>>.
[[nodiscard]] std::string encode_binary_broadcast(std::string_view topic, std::string_view event,
                                                  std::string_view data);

/// Client -> server binary push:
/// <<0, jr_len, ref_len, topic_len, event_len, jr, ref, topic, event, data>>.
[[nodiscard]] std::string encode_client_binary_push(std::string_view join_ref,
                                                    std::string_view ref, std::string_view topic,
                                                    std::string_view event,
                                                    std::string_view data);

/// Appends `text` as a quoted JSON string (escapes quotes, backslashes, controls).
void append_json_string(std::string& out, std::string_view text);

}  // namespace roomcast::protocol
