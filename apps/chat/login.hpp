#pragma once
// The demo's login: POST /api/login {"name"} hands out a short-lived HS256 token
// (no password: it is a demo), and the secret it is signed with.

#include "roomcast/http.hpp"

#include <chrono>
#include <string>

namespace chat {

/// The secret in DATA_DIR/chat-secret, made (32 random bytes, hex, mode 0600)
/// on first start. Throws std::runtime_error when it can be neither read nor made.
std::string load_or_create_secret(const std::string& data_dir);

/// Answers POST /api/login: 200 {"token", "user", "expires_in"}, or 400
/// {"error": "bad_request" | "invalid_name", "message"}.
roomcast::http_response login(const roomcast::http_request& request, const std::string& secret,
                              std::chrono::seconds token_ttl);

}  // namespace chat
