#pragma once
// The Origin allow-list checked at WebSocket upgrade: a browser page from another
// site must not open a socket with the user's cookies (cross-site WebSocket
// hijacking). Pure.

#include <string>
#include <string_view>
#include <vector>

namespace roomcast::auth {

/// True when `origin` (the header's value, e.g. "https://chat.example.com")
/// matches an entry of `allowed`: an exact origin ("https://chat.example.com",
/// port included when not the default), or one with a wildcard host label
/// ("https://*.example.com": any subdomain, not example.com itself). Scheme and
/// host compare case-insensitively.
[[nodiscard]] bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

}  // namespace roomcast::auth
