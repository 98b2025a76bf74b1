#pragma once
// Verifies JWTs with libjwt (Debian's libjwt-dev), then checks what libjwt does
// not: the algorithm is the configured one (so "none" and algorithm confusion
// fail), "exp", "nbf", "aud" and "iss".

#include "roomcast/tokens.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast::auth {

struct token_result {
  bool ok = false;
  std::string reason;  ///< why not, for the client: "invalid token", "token expired", ...
  boost::json::object claims;
  std::string subject;                    ///< "sub", or empty
  std::optional<std::int64_t> expires_at;  ///< "exp" + leeway, Unix seconds: when it stops being valid
};

class token_verifier {
 public:
  /// Reads the key file when the algorithm needs one; throws std::runtime_error
  /// for an unknown algorithm or a missing key.
  explicit token_verifier(token_options options);

  [[nodiscard]] token_result verify(std::string_view token, std::int64_t now_s) const;
  [[nodiscard]] const token_options& options() const noexcept { return options_; }

 private:
  token_options options_;
  int algorithm_ = 0;  // jwt_alg_t
  std::string key_;
};

/// The token of an upgrade: the "token" query parameter, else the phoenix.js
/// subprotocol entry "base64url.bearer.phx.<base64 of the token>".
[[nodiscard]] std::string token_of(const std::string* query_token, const std::string* protocols);

/// Base64 (standard or URL alphabet, padding optional); nullopt when malformed.
[[nodiscard]] std::optional<std::string> decode_base64(std::string_view text);

}  // namespace roomcast::auth
