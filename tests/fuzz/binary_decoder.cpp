// libFuzzer target: the Phoenix v2 binary decoders (client push, and the
// server kinds the C++ client reads). A decoded client push must re-encode.
#include "protocol/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace roomcast::protocol;
  std::string_view frame(reinterpret_cast<const char*>(data), size);
  (void)decode_server_binary(frame);
  auto result = decode_client_binary(frame);
  auto* msg = std::get_if<roomcast::message>(&result);
  if (!msg || !msg->binary) return 0;
  auto again = decode_client_binary(encode_client_binary_push(
      msg->join_ref.value_or(""), msg->ref.value_or(""), msg->topic, msg->event, *msg->binary));
  auto* round = std::get_if<roomcast::message>(&again);
  if (!round || round->topic != msg->topic || round->event != msg->event ||
      round->binary != msg->binary)
    std::abort();
  return 0;
}
