// JWT authentication at connect, against a real server: HS256, RS256 and ES256
// with throwaway keys made at run time; wrong, expired, not-yet-valid, tampered,
// alg-none and algorithm-confusion tokens refused with their reason; the token
// in phoenix.js's subprotocol; a token expiring while connected.
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <boost/json.hpp>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <fstream>
#include <memory>

namespace roomcast::testing {
namespace {

namespace json = boost::json;

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// A signed JWT made with libjwt. `key`: the HMAC secret or a private key (PEM).
std::string make_token(jwt_alg_t alg, const std::string& key, const json::object& claims) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
  if (jwt_add_grants_json(jwt.get(), json::serialize(claims).c_str()) != 0)
    throw std::runtime_error("jwt_add_grants_json failed");
  if (jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
                  static_cast<int>(key.size())) != 0)
    throw std::runtime_error("jwt_set_alg failed");
  std::unique_ptr<char, void (*)(void*)> text(jwt_encode_str(jwt.get()), std::free);
  if (!text) throw std::runtime_error("jwt_encode_str failed");
  return text.get();
}

std::string base64url(std::string_view bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 63];
  return out;
}

/// A private/public PEM pair made now ("RSA" or "EC" P-256): no key is committed.
struct key_pair {
  std::string private_pem, public_pem;
};
key_pair generate(bool rsa) {
  EVP_PKEY* raw = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  if (!raw) throw std::runtime_error("key generation failed");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(raw, EVP_PKEY_free);
  auto pem = [&](bool priv) {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    int ok = priv ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_bio_PUBKEY(bio.get(), key.get());
    if (!ok) throw std::runtime_error("PEM write failed");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  return {pem(true), pem(false)};
}

/// Attempts the Phoenix upgrade with `query` (and extra header lines) over a raw
/// socket: the refusal's status and JSON body, or 101.
http_result upgrade(const server& srv, const std::string& query, const std::string& headers = "") {
  return http_raw(srv.port(), "GET /socket/websocket?vsn=2.0.0" + query +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                  "Sec-WebSocket-Version: 13\r\n" +
                                  headers + "\r\n");
}

std::string reason_of(const http_result& r) {
  auto body = json::parse(r.body);
  EXPECT_EQ(body.at("error"), "unauthorized") << r.body;
  return std::string(body.at("message").as_string());
}

std::unique_ptr<client> connect_with_token(const server& srv, const std::string& token) {
  auto o = client_options(srv);
  o.params["token"] = token;
  return client::connect(o);
}

const std::string secret = "test-secret-not-for-production";

class TokenTest : public ::testing::Test {
 protected:
  std::unique_ptr<server> start(token_options t) {
    server_options o;
    o.tokens = std::move(t);
    o.api_keys = {"k"};
    return start_test_server(o);
  }
  static token_options hs256() {
    token_options t;
    t.algorithm = "HS256";
    t.secret = secret;
    return t;
  }
  static json::object claims(std::int64_t exp_in = 3600) {
    return json::object{{"sub", "alice"}, {"exp", now_s() + exp_in}, {"role", "admin"}};
  }
  temp_dir dir_;
};

TEST_F(TokenTest, AValidTokenNamesTheUser) {
  auto srv = start(hs256());
  auto c = connect_with_token(*srv, make_token(JWT_ALG_HS256, secret, claims()));
  join_ok(*c, "echo:t");
  // The socket is known by "sub": the API disconnects it by that name.
  auto r = http_post(srv->port(), "/api/disconnect", R"({"user":"alice"})", "Authorization: Bearer k\r\n");
  EXPECT_EQ(json::parse(r.body).at("disconnected"), 1) << r.body;
  EXPECT_EQ(c->wait_closed(wait_limit), 1000);
}

TEST_F(TokenTest, BadTokensAreRefusedWithTheirReason) {
  auto srv = start(hs256());
  auto token = make_token(JWT_ALG_HS256, secret, claims());
  EXPECT_EQ(reason_of(upgrade(*srv, "")), "missing token");
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=not.a.jwt")), "invalid token");
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, "another secret", claims()))),
            "invalid token");
  auto tampered = token;
  tampered[tampered.find('.') + 3] ^= 1;  // one bit of the claims
  EXPECT_EQ(upgrade(*srv, "&token=" + tampered).status, 401);
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, claims(-10)))),
            "token expired");
  auto far = claims();
  far["exp"] = 99'999'999'999'999;  // past the year 2262 in nanoseconds: refused, not overflowed
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, far))),
            "invalid token: exp is not a time");
  auto text_nbf = claims();
  text_nbf["nbf"] = "9999999999";
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, text_nbf))),
            "invalid token: nbf is not a time");
  // Valid only before exp (RFC 7519): a token expiring this very second is refused,
  // or a reconnect would be accepted and closed again at once.
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, claims(0)))),
            "token expired");
  auto early = claims();
  early["nbf"] = now_s() + 600;
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, early))),
            "token not yet valid");
  // alg "none": no signature at all.
  auto none = base64url(R"({"alg":"none","typ":"JWT"})") + "." +
              base64url(json::serialize(claims())) + ".";
  auto refused_none = upgrade(*srv, "&token=" + none);
  EXPECT_EQ(refused_none.status, 401);
  EXPECT_TRUE(reason_of(refused_none).starts_with("invalid token")) << refused_none.body;
  EXPECT_EQ(upgrade(*srv, "&token=" + token).status, 101) << "and the good one still works";
}

TEST_F(TokenTest, AudienceAndIssuerAreChecked) {
  auto t = hs256();
  t.audience = "roomcast";
  t.issuer = "https://auth.example";
  auto srv = start(t);
  auto good = claims();
  good["aud"] = json::array{"other", "roomcast"};
  good["iss"] = "https://auth.example";
  EXPECT_EQ(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, good)).status, 101);
  auto wrong_aud = good;
  wrong_aud["aud"] = "other";
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, wrong_aud))),
            "token audience mismatch");
  auto wrong_iss = good;
  wrong_iss["iss"] = "https://evil.example";
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, secret, wrong_iss))),
            "token issuer mismatch");
}

TEST_F(TokenTest, Rs256AndEs256WithPublicKeysAndNoAlgorithmConfusion) {
  for (bool rsa : {true, false}) {
    auto keys = generate(rsa);
    auto path = dir_.file(rsa ? "rsa.pem" : "ec.pem");
    std::ofstream(path) << keys.public_pem;
    token_options t;
    t.algorithm = rsa ? "RS256" : "ES256";
    t.public_key_file = path;
    auto srv = start(t);
    auto alg = rsa ? JWT_ALG_RS256 : JWT_ALG_ES256;
    EXPECT_EQ(upgrade(*srv, "&token=" + make_token(alg, keys.private_pem, claims())).status, 101)
        << t.algorithm;
    // Signed by another key pair.
    EXPECT_EQ(reason_of(upgrade(*srv, "&token=" + make_token(alg, generate(rsa).private_pem, claims()))),
              "invalid token");
    // Algorithm confusion: HS256 "signed" with the public key as the secret.
    auto confused = upgrade(*srv, "&token=" + make_token(JWT_ALG_HS256, keys.public_pem, claims()));
    EXPECT_EQ(confused.status, 401) << t.algorithm;
    // libjwt accepts that signature: the configured-algorithm check is what refuses it.
    EXPECT_EQ(reason_of(confused), "invalid token: algorithm not allowed") << t.algorithm;
  }
}

TEST_F(TokenTest, TheTokenCanTravelInThePhoenixSubprotocol) {
  auto srv = start(hs256());
  auto token = make_token(JWT_ALG_HS256, secret, claims());
  // phoenix.js: "base64url.bearer.phx." + btoa(token) without padding.
  auto encoded = base64url(token);
  for (auto& ch : encoded) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  auto r = upgrade(*srv, "", "Sec-WebSocket-Protocol: phoenix, base64url.bearer.phx." + encoded + "\r\n");
  EXPECT_EQ(r.status, 101) << r.body;
}

TEST_F(TokenTest, AFarExpiryKeepsTheSocketOpen) {
  auto srv = start(hs256());
  auto forever = claims();
  forever["exp"] = 9'999'999'999;  // a common "never": must not wrap into "expired now"
  auto c = connect_with_token(*srv, make_token(JWT_ALG_HS256, secret, forever));
  join_ok(*c, "echo:t");
  EXPECT_FALSE(c->wait_closed(std::chrono::milliseconds(300)));
  EXPECT_TRUE(await(c->heartbeat()).ok());
}

/// Answers a join with the socket's connect params and user id.
class params_channel final : public channel {
 public:
  join_result on_join(const json::value&, const member& who) override {
    json::object params;
    for (const auto& [k, v] : who.socket().params) params[k] = v;
    return join_result::accept(json::object{{"params", params}, {"user", who.user_id()}});
  }
};

TEST_F(TokenTest, TheTokenIsNotLeftInTheSocketParams) {
  server_options o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.tokens = hs256();
  server srv(o);
  srv.channel("params:*", [](std::string_view) { return std::make_unique<params_channel>(); });
  srv.start();
  auto co = client_options(srv);
  co.params["token"] = make_token(JWT_ALG_HS256, secret, claims());
  co.params["device"] = "phone";
  auto c = client::connect(co);
  auto r = join_ok(*c, "params:x");
  EXPECT_EQ(r.response.at("user"), "alice");
  EXPECT_EQ(r.response.at("params").at("device"), "phone");
  EXPECT_FALSE(r.response.at("params").as_object().contains("token"));
}

TEST_F(TokenTest, ASocketClosesWhenItsTokenExpires) {
  auto srv = start(hs256());
  auto c = connect_with_token(*srv, make_token(JWT_ALG_HS256, secret, claims(2)));
  join_ok(*c, "echo:t");
  auto code = c->wait_closed(std::chrono::seconds(4) + wait_limit);
  EXPECT_EQ(code, 1008) << "token expired";
}

TEST_F(TokenTest, TopicRulesAuthorizeJoinsByClaims) {
  server_options o;
  o.tokens = hs256();
  o.topic_rules = {"echo:*", "room:user:{sub}", "presence:* role=admin"};
  auto srv = start_test_server(o);
  auto alice = connect_with_token(*srv, make_token(JWT_ALG_HS256, secret, claims()));  // role admin
  join_ok(*alice, "echo:open");
  join_ok(*alice, "room:user:alice");
  auto other = await(alice->join("room:user:bob"));
  EXPECT_FALSE(other.ok());
  EXPECT_EQ(other.reason(), "unauthorized");
  join_ok(*alice, "presence:staff", json::object{{"user", "alice"}});
  auto bob_claims = json::object{{"sub", "bob"}, {"exp", now_s() + 60}, {"role", "user"}};
  auto bob = connect_with_token(*srv, make_token(JWT_ALG_HS256, secret, bob_claims));
  EXPECT_EQ(await(bob->join("presence:staff")).reason(), "unauthorized");
  EXPECT_EQ(await(bob->join("room:user:alice")).reason(), "unauthorized");
  join_ok(*bob, "room:user:bob");
  EXPECT_EQ(await(bob->join("room:unlisted")).reason(), "unauthorized") << "no rule allows it";
}

TEST_F(TokenTest, OptionalTokensLetAnonymousSocketsIn) {
  auto t = hs256();
  t.required = false;
  auto srv = start(t);
  EXPECT_EQ(upgrade(*srv, "").status, 101);
  EXPECT_EQ(reason_of(upgrade(*srv, "&token=garbage")), "invalid token") << "a bad token is still refused";
}

}  // namespace
}  // namespace roomcast::testing
