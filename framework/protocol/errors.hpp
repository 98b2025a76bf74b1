#pragma once
// Every error reason and close code the server sends. docs/protocol.md lists them
// with their meaning; keep the two in step.

#include <cstdint>
#include <string_view>

namespace roomcast::protocol {

namespace reasons {
// Frame-level errors (reply on the frame's topic/ref when they can be read).
inline constexpr std::string_view invalid_message = "invalid message";
inline constexpr std::string_view too_deep = "invalid message: nesting too deep";
inline constexpr std::string_view number_out_of_range = "invalid message: number out of range";
// Channel-level errors.
inline constexpr std::string_view unmatched_topic = "unmatched topic";
inline constexpr std::string_view unknown_event = "unknown event";
inline constexpr std::string_view too_many_channels = "too many channels";
inline constexpr std::string_view invalid_topic = "invalid topic";
inline constexpr std::string_view join_crashed = "join crashed";
inline constexpr std::string_view join_timeout = "join timeout";
// The topic's owner node did not answer a join (it died, hangs, or the nodes'
// views of the membership disagree for a moment): the client retries.
inline constexpr std::string_view owner_unreachable = "owner unreachable";
inline constexpr std::string_view unauthorized = "unauthorized";  // a topic rule refused the join
inline constexpr std::string_view binary_unsupported = "binary payloads not supported";
// Durable topics.
inline constexpr std::string_view storage_unavailable = "storage_unavailable";
inline constexpr std::string_view invalid_since =
    "invalid join params: since and history must be non-negative integers";
// Backpressure and limits.
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view overloaded = "overloaded";
inline constexpr std::string_view payload_too_large = "payload too large";
}  // namespace reasons

namespace close_codes {
inline constexpr std::uint16_t normal = 1000;         // heartbeat timeout, client asked
inline constexpr std::uint16_t going_away = 1001;     // server shutting down
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;        // frame over the size limit
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;  // drain: reconnect elsewhere
inline constexpr std::uint16_t try_again_later = 1013;
}  // namespace close_codes

}  // namespace roomcast::protocol
