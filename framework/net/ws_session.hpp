#pragma once
// Starts a WebSocket session on an accepted, upgraded TCP socket. The session
// template (and so websocket::stream) is instantiated only in ws_session.cpp.

#include "net/beast.hpp"
#include "net/gateway.hpp"
#include "net/session_registry.hpp"
#include "net/tls_context.hpp"

#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>

namespace roomcast::net {

/// Completes the handshake for `request`, then connects the session to its actor
/// through `plan.attach`. The session keeps itself alive while it has work.
void start_plain_ws_session(beast::tcp_stream stream, beast_request request, upgrade_plan plan,
                            const socket_limits& limits,
                            std::shared_ptr<session_registry> registry,
                            const std::string& remote_address);

/// The same over TLS: `stream` has completed its TLS handshake; the session
/// keeps `context` alive for as long as the connection lasts.
void start_tls_ws_session(beast::ssl_stream<beast::tcp_stream> stream, ssl_context_ptr context,
                          beast_request request, upgrade_plan plan, const socket_limits& limits,
                          std::shared_ptr<session_registry> registry,
                          const std::string& remote_address);

}  // namespace roomcast::net
