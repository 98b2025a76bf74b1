#pragma once
// One HTTP connection: reads requests (keep-alive), answers them through the
// gateway, or hands an upgrade request over to a WebSocket session.

#include "net/beast.hpp"
#include "net/gateway.hpp"
#include "net/session_registry.hpp"

#include <memory>

namespace roomcast::net {

void start_http_session(tcp::socket socket, std::shared_ptr<gateway> gw,
                        std::shared_ptr<session_registry> registry);

}  // namespace roomcast::net
