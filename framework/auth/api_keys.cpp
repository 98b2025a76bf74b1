#include "auth/api_keys.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>

namespace roomcast::auth {

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.empty() || b.empty()) return false;
  // Digests first: equal lengths whatever was presented, so the time taken
  // reveals neither the contents nor the length of a key.
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

api_auth check_api_key(const std::map<std::string, std::string>& headers,
                       const std::vector<std::string>& keys) {
  if (keys.empty()) return api_auth::none_configured;
  auto it = headers.find("authorization");
  if (it == headers.end()) return api_auth::missing;
  std::string_view value = it->second;
  // The scheme is case-insensitive (RFC 7235); the key is not.
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size()) return api_auth::missing;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return api_auth::missing;
  auto presented = value.substr(scheme.size());
  bool match = false;
  for (const auto& key : keys) match |= constant_time_equal(presented, key);  // no early exit
  return match ? api_auth::ok : api_auth::wrong;
}

}  // namespace roomcast::auth
