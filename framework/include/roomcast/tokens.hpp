#pragma once
// Token authentication at connect: a JWT in the connect params (?token=...) or
// in phoenix.js's authToken subprotocol ("base64url.bearer.phx.<base64>").
// Verified with libjwt; see docs/security.md.

#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace roomcast {

struct token_options {
  /// "HS256", "RS256" or "ES256": the only algorithm accepted (a token naming
  /// any other, "none" included, is refused). Empty: tokens are not checked.
  std::string algorithm;
  std::string secret;           ///< HS256: the shared secret
  std::string public_key_file;  ///< RS256 / ES256: the verification key (PEM)
  std::string audience;  ///< when set, the token's "aud" must be or contain it
  std::string issuer;    ///< when set, the token's "iss" must equal it
  /// Clock skew tolerated for "exp" and "nbf".
  std::chrono::seconds leeway{0};
  /// A socket without a token is refused (401); false lets it connect anonymously.
  bool required = true;
};

/// Signs `claims` ({"sub", "exp", ...}) as an HS256 JWT with `secret` (libjwt),
/// for an application's login endpoint; server_options::tokens verifies it.
std::string sign_hs256(std::string_view secret, const boost::json::object& claims);

}  // namespace roomcast
