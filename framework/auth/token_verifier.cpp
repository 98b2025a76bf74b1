#include "auth/token_verifier.hpp"

#include <boost/json/parse.hpp>

#include "auth/jwt_handles.hpp"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace roomcast::auth {

namespace json = boost::json;

namespace {

std::optional<std::int64_t> number_claim(const json::object& claims, std::string_view key) {
  const auto* v = claims.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double() && v->get_double() >= 0 && v->get_double() < 1e15)
    return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

bool audience_matches(const json::value* aud, const std::string& wanted) {
  if (!aud) return false;
  if (aud->is_string()) return aud->get_string() == wanted;
  if (aud->is_array())
    for (const auto& entry : aud->get_array())
      if (entry.is_string() && entry.get_string() == wanted) return true;
  return false;
}

token_result refused(std::string reason) {
  token_result r;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

token_verifier::token_verifier(token_options options) : options_(std::move(options)) {
  algorithm_ = jwt_str_alg(options_.algorithm.c_str());
  if (algorithm_ != JWT_ALG_HS256 && algorithm_ != JWT_ALG_RS256 && algorithm_ != JWT_ALG_ES256)
    throw std::runtime_error("token algorithm must be HS256, RS256 or ES256, not '" +
                             options_.algorithm + "'");
  if (algorithm_ == JWT_ALG_HS256) {
    if (options_.secret.empty()) throw std::runtime_error("HS256 tokens need a secret");
    key_ = options_.secret;
    return;
  }
  std::ifstream file(options_.public_key_file);
  if (!file) throw std::runtime_error("cannot read token key file '" + options_.public_key_file + "'");
  std::ostringstream text;
  text << file.rdbuf();
  key_ = text.str();
  if (key_.find("-----BEGIN") == std::string::npos)
    throw std::runtime_error("token key file '" + options_.public_key_file + "' is not PEM");
}

token_result token_verifier::verify(std::string_view token, std::int64_t now_s) const {
  if (token.empty()) return refused("missing token");
  std::string text(token);  // libjwt wants a nul-terminated string
  jwt_t* raw = nullptr;
  int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key_.data()),
                      static_cast<int>(key_.size()));
  jwt_ptr jwt(raw);
  if (rc != 0 || !jwt) return refused("invalid token");
  // libjwt verifies with the algorithm the token names: only the configured one
  // counts ("none", or HS256 signed with an RSA public key, must not pass).
  if (jwt_get_alg(jwt.get()) != static_cast<jwt_alg_t>(algorithm_))
    return refused("invalid token: algorithm not allowed");
  jwt_string grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants) return refused("invalid token");
  json::error_code ec;
  auto parsed = json::parse(grants.get(), ec);
  if (ec || !parsed.is_object()) return refused("invalid token");
  token_result r;
  r.claims = std::move(parsed.get_object());
  auto leeway = static_cast<std::int64_t>(options_.leeway.count());
  // Seconds since the epoch; far-future values are refused rather than left to
  // overflow the arithmetic below.
  constexpr std::int64_t max_time = 1'000'000'000'000;
  for (const char* key : {"exp", "nbf"}) {
    if (!r.claims.contains(key)) continue;
    auto value = number_claim(r.claims, key);
    if (!value || *value < 0 || *value > max_time)
      return refused(std::string("invalid token: ") + key + " is not a time");
  }
  if (auto exp = number_claim(r.claims, "exp")) {
    // RFC 7519: valid only before exp. The socket's deadline is the same
    // moment, so a reconnect with the same token is refused, not accepted and
    // closed again at once.
    if (now_s >= *exp + leeway) return refused("token expired");
    r.expires_at = *exp + leeway;
  }
  if (auto nbf = number_claim(r.claims, "nbf"); nbf && now_s + leeway < *nbf)
    return refused("token not yet valid");
  if (!options_.audience.empty() && !audience_matches(r.claims.if_contains("aud"), options_.audience))
    return refused("token audience mismatch");
  if (!options_.issuer.empty()) {
    const auto* iss = r.claims.if_contains("iss");
    if (!iss || !iss->is_string() || iss->get_string() != options_.issuer)
      return refused("token issuer mismatch");
  }
  if (const auto* sub = r.claims.if_contains("sub"); sub && sub->is_string())
    r.subject = std::string(sub->get_string());
  r.ok = true;
  return r;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string token_of(const std::string* query_token, const std::string* protocols) {
  if (query_token && !query_token->empty()) return *query_token;
  if (!protocols) return {};
  constexpr std::string_view prefix = "base64url.bearer.phx.";
  std::string_view list = *protocols;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto entry = list.substr(0, comma);
    while (!entry.empty() && (entry.front() == ' ' || entry.front() == '\t')) entry.remove_prefix(1);
    while (!entry.empty() && (entry.back() == ' ' || entry.back() == '\t')) entry.remove_suffix(1);
    if (entry.starts_with(prefix))
      if (auto decoded = decode_base64(entry.substr(prefix.size()))) return *decoded;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return {};
}

}  // namespace roomcast::auth
