// libFuzzer target: the Phoenix v2 text decoder. Whatever it accepts must
// re-encode into a frame it accepts again, with the same envelope.
#include "protocol/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roomcast::protocol;
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto result = decode_text(frame, decode_limits{});
  auto* msg = std::get_if<roomcast::message>(&result);
  if (!msg) return 0;
  auto view = [](const std::optional<std::string>& s) { return s ? opt_ref(*s) : std::nullopt; };
  auto again = decode_text(
      encode_text(view(msg->join_ref), view(msg->ref), msg->topic, msg->event, msg->payload),
      decode_limits{});
  auto* round = std::get_if<roomcast::message>(&again);
  if (!round || round->topic != msg->topic || round->event != msg->event ||
      round->join_ref != msg->join_ref || round->ref != msg->ref)
    std::abort();
  return 0;
}
