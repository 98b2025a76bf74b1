#pragma once
// API keys for the HTTP API: "Authorization: Bearer KEY", compared in constant
// time so that response timing does not reveal how much of a guess was right.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace roomcast::auth {

enum class api_auth { ok, missing, wrong, none_configured };

/// Checks the request's Authorization header (lower-case header names) against `keys`.
[[nodiscard]] api_auth check_api_key(const std::map<std::string, std::string>& headers,
                                     const std::vector<std::string>& keys);

/// Equal contents, compared as SHA-256 digests in constant time (the time
/// depends on neither the contents nor which lengths differ).
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace roomcast::auth
