#pragma once
// One HTTP connection: reads requests (keep-alive), answers them through the
// gateway, or hands an upgrade request over to a WebSocket session. With TLS
// configured, the first bytes decide: a ClientHello starts the TLS handshake;
// plain HTTP is served, or (TLS only) answered 400 "tls_required" and closed.

#include "net/beast.hpp"
#include "net/gateway.hpp"
#include "net/session_registry.hpp"
#include "net/tls_context.hpp"

#include <memory>

namespace roomcast::net {

/// `tls` null: plain HTTP only.
void start_http_session(tcp::socket socket, std::shared_ptr<gateway> gw,
                        std::shared_ptr<session_registry> registry,
                        std::shared_ptr<const tls_context_holder> tls);

}  // namespace roomcast::net
