#include "roomcast/channel.hpp"

#include "protocol/errors.hpp"

namespace roomcast {

reply channel::on_event(std::string_view, const json::value&, const member&) {
  return reply::error(protocol::reasons::unknown_event);
}

reply channel::on_binary(std::string_view, std::string_view, const member&) {
  return reply::error(protocol::reasons::binary_unsupported);
}

void channel::on_leave(const member&, leave_reason) {}

}  // namespace roomcast
