// sign_hs256: tokens for an application's own login endpoint (the chat demo's
// POST /api/login), made with the same library that verifies them.
#include "roomcast/tokens.hpp"

#include "auth/jwt_handles.hpp"

#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace roomcast {

std::string sign_hs256(std::string_view secret, const boost::json::object& claims) {
  if (secret.empty()) throw std::invalid_argument("sign_hs256: empty secret");
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("sign_hs256: out of memory");
  auth::jwt_ptr jwt(raw);
  if (jwt_add_grants_json(jwt.get(), boost::json::serialize(claims).c_str()) != 0)
    throw std::invalid_argument("sign_hs256: claims refused by libjwt");
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0)
    throw std::runtime_error("sign_hs256: cannot set the key");
  auth::jwt_string text(jwt_encode_str(jwt.get()));
  if (!text) throw std::runtime_error("sign_hs256: encoding failed");
  return text.get();
}

}  // namespace roomcast
