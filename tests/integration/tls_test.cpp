// wss:// against a real server with certificates made at run time: the C++
// client over TLS, untrusted and plain clients refused while the server keeps
// serving, TLS and plain on one port, TLS 1.2+ only, client certificates, and
// certificate reload (in process and on SIGHUP) without dropping connections.
#include "child_process.hpp"
#include "common/temp_dir.hpp"
#include "common/test_ca.hpp"
#include "test_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace roomcast::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

/// A CA, a server certificate from it, and a server options' TLS part.
struct tls_fixture {
  temp_dir dir;
  test_ca ca{"Roomcast Test CA"};
  std::string ca_file = dir.file("ca.pem");
  std::string cert_file = dir.file("server.pem");
  std::string key_file = dir.file("server-key.pem");

  tls_fixture() {
    ca.write_ca(ca_file);
    ca.issue(dir.file("server"), "localhost");
  }

  [[nodiscard]] tls_options server_tls() const {
    tls_options t;
    t.cert_file = cert_file;
    t.key_file = key_file;
    return t;
  }

  [[nodiscard]] client::options client_for(const server& srv) const {
    auto o = client_options(srv);
    o.tls = true;
    o.ca_file = ca_file;
    return o;
  }
};

/// A TLS test server that records what on_connect saw of each socket (a
/// verified client certificate's subject becomes the user id).
struct recording_server {
  struct seen {
    bool tls;
    std::string subject;
    bool operator==(const seen&) const = default;
  };
  std::mutex mutex;
  std::vector<seen> connects;  // guarded by mutex
  std::unique_ptr<server> srv;  // last: stopped before the rest goes

  explicit recording_server(const tls_options& tls) {
    server_options o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.tls = tls;
    srv = std::make_unique<server>(o);
    register_test_channels(*srv);
    srv->on_connect([this](const connect_request& req) {
      std::lock_guard lock(mutex);
      connects.push_back({req.tls, req.client_cert_subject});
      return connect_result::accept(req.client_cert_subject);
    });
    srv->start();
  }

  std::vector<seen> seen_so_far() {
    std::lock_guard lock(mutex);
    return connects;
  }
};

std::unique_ptr<server> start_tls_server(const tls_options& tls) {
  server_options o;
  o.tls = tls;
  return start_test_server(o);
}

/// A push round trip: the connection carries traffic both ways.
void expect_round_trip(client& c, const std::string& topic) {
  join_ok(c, topic);
  auto reply = await(c.push(topic, "shout", json::object{{"n", 1}}));
  EXPECT_TRUE(reply.ok()) << reply.reason();
  EXPECT_TRUE(c.wait_for(topic, "shout", wait_limit).has_value());
}

/// Whether a bare TLS handshake with the given protocol bounds succeeds.
/// The client allows every cipher (security level 0), so a failure is the server's.
bool tls_handshake_ok(std::uint16_t port, int min_version, int max_version) {
  asio::io_context ioc;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_security_level(ctx.native_handle(), 0);
  SSL_CTX_set_cipher_list(ctx.native_handle(), "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
  ctx.set_verify_mode(asio::ssl::verify_none);
  asio::ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
  boost::system::error_code ec;
  stream.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return false;
  stream.handshake(asio::ssl::stream_base::client, ec);
  return !ec;
}

TEST(Tls, WssRoundTripWithTheCppClient) {
  tls_fixture f;
  auto srv = start_tls_server(f.server_tls());
  auto c = client::connect(f.client_for(*srv));
  expect_round_trip(*c, "echo:tls");
  // The certificate names both localhost and 127.0.0.1.
  auto o = f.client_for(*srv);
  o.server_name = "localhost";
  auto by_name = client::connect(o);
  EXPECT_TRUE(by_name->is_open());
}

TEST(Tls, UntrustedOrMisnamedCertificateRefusedAndServerKeepsServing) {
  tls_fixture f;
  auto srv = start_tls_server(f.server_tls());
  test_ca other("Someone Else's CA");
  other.write_ca(f.dir.file("other-ca.pem"));
  auto o = f.client_for(*srv);
  o.ca_file = f.dir.file("other-ca.pem");
  try {
    client::connect(o);
    FAIL() << "a certificate from an untrusted CA was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("TLS handshake failed"), std::string::npos) << e.what();
  }
  auto wrong_name = f.client_for(*srv);
  wrong_name.server_name = "example.com";
  EXPECT_THROW(client::connect(wrong_name), std::runtime_error);
  auto c = client::connect(f.client_for(*srv));
  expect_round_trip(*c, "echo:after");
}

TEST(Tls, PlainClientOnTlsOnlyPortGetsA400AndServerKeepsServing) {
  tls_fixture f;
  auto srv = start_tls_server(f.server_tls());
  try {
    client::connect(client_options(*srv));
    FAIL() << "a plain WebSocket was accepted on a TLS-only port";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 400"), std::string::npos) << e.what();
  }
  auto plain = http_get(srv->port(), "/healthz");
  EXPECT_EQ(plain.status, 400);
  EXPECT_NE(plain.body.find("tls_required"), std::string::npos) << plain.body;
  auto c = client::connect(f.client_for(*srv));
  expect_round_trip(*c, "echo:still");
}

TEST(Tls, DetectModeServesTlsAndPlainOnOnePort) {
  tls_fixture f;
  auto t = f.server_tls();
  t.allow_plain = true;
  recording_server r(t);
  auto secure = client::connect(f.client_for(*r.srv));
  auto plain = client::connect(client_options(*r.srv));
  expect_round_trip(*secure, "echo:both");
  expect_round_trip(*plain, "echo:both");
  EXPECT_EQ(http_get(r.srv->port(), "/healthz").status, 200);
  EXPECT_EQ(r.seen_so_far(), (std::vector<recording_server::seen>{{true, ""}, {false, ""}}));
}

TEST(Tls, OnlyTls12AndTls13AreAccepted) {
  tls_fixture f;
  auto srv = start_tls_server(f.server_tls());
  EXPECT_TRUE(tls_handshake_ok(srv->port(), TLS1_3_VERSION, TLS1_3_VERSION));
  EXPECT_TRUE(tls_handshake_ok(srv->port(), TLS1_2_VERSION, TLS1_2_VERSION));
  EXPECT_FALSE(tls_handshake_ok(srv->port(), TLS1_1_VERSION, TLS1_1_VERSION));
  EXPECT_FALSE(tls_handshake_ok(srv->port(), TLS1_VERSION, TLS1_VERSION));
  auto c = client::connect(f.client_for(*srv));
  expect_round_trip(*c, "echo:modern");
}

TEST(Tls, RequiredClientCertificate) {
  tls_fixture f;
  test_ca clients("Client CA");
  clients.write_ca(f.dir.file("client-ca.pem"));
  clients.issue(f.dir.file("alice"), "alice", {}, {}, cert_use::client);
  f.ca.issue(f.dir.file("mallory"), "mallory", {}, {}, cert_use::client);  // wrong CA

  auto t = f.server_tls();
  t.client_ca_file = f.dir.file("client-ca.pem");
  t.client_certs = client_cert_mode::required;
  recording_server r(t);

  EXPECT_THROW(client::connect(f.client_for(*r.srv)), std::runtime_error);  // no certificate
  auto wrong = f.client_for(*r.srv);
  wrong.cert_file = f.dir.file("mallory.pem");
  wrong.key_file = f.dir.file("mallory-key.pem");
  EXPECT_THROW(client::connect(wrong), std::runtime_error);

  auto alice = f.client_for(*r.srv);
  alice.cert_file = f.dir.file("alice.pem");
  alice.key_file = f.dir.file("alice-key.pem");
  auto c = client::connect(alice);
  expect_round_trip(*c, "echo:mtls");
  EXPECT_EQ(r.seen_so_far(), (std::vector<recording_server::seen>{{true, "CN=alice"}}));
}

TEST(Tls, OptionalClientCertificate) {
  tls_fixture f;
  f.ca.issue(f.dir.file("bob"), "bob", {}, {}, cert_use::client);
  auto t = f.server_tls();
  t.client_ca_file = f.ca_file;
  t.client_certs = client_cert_mode::optional;
  recording_server r(t);
  auto anonymous = client::connect(f.client_for(*r.srv));
  auto with_cert = f.client_for(*r.srv);
  with_cert.cert_file = f.dir.file("bob.pem");
  with_cert.key_file = f.dir.file("bob-key.pem");
  auto bob = client::connect(with_cert);
  expect_round_trip(*bob, "echo:optional");
  EXPECT_EQ(r.seen_so_far(),
            (std::vector<recording_server::seen>{{true, ""}, {true, "CN=bob"}}));
}

TEST(Tls, BadFilesRefusedAtStart) {
  tls_fixture f;
  auto missing = f.server_tls();
  missing.cert_file = f.dir.file("nope.pem");
  EXPECT_THROW(start_tls_server(missing), std::runtime_error);
  test_ca other("Other");
  other.issue(f.dir.file("other"), "other");
  auto mismatched = f.server_tls();
  mismatched.key_file = f.dir.file("other-key.pem");
  try {
    start_tls_server(mismatched);
    FAIL() << "a key that does not match the certificate was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mismatch"), std::string::npos) << e.what();
  }
  tls_options key_only;
  key_only.key_file = f.key_file;
  EXPECT_THROW(start_tls_server(key_only), std::invalid_argument);
}

/// Replaces the server's certificate files with ones from a new CA; returns its CA file.
std::string rotate_certificate(tls_fixture& f, const std::string& ca_name) {
  test_ca next(ca_name);
  auto ca_file = f.dir.file(ca_name + ".pem");
  next.write_ca(ca_file);
  next.issue(f.dir.file("next"), "localhost");
  std::filesystem::rename(f.dir.file("next.pem"), f.cert_file);
  std::filesystem::rename(f.dir.file("next-key.pem"), f.key_file);
  return ca_file;
}

TEST(Tls, ReloadServesNewCertificateAndKeepsOpenConnections) {
  tls_fixture f;
  auto srv = start_tls_server(f.server_tls());
  auto before = client::connect(f.client_for(*srv));
  join_ok(*before, "echo:reload");

  auto new_ca = rotate_certificate(f, "Rotated CA");
  srv->reload_tls();

  // The open connection keeps its TLS session and its traffic.
  auto reply = await(before->push("echo:reload", "shout", json::object{{"after", true}}));
  EXPECT_TRUE(reply.ok());
  EXPECT_TRUE(before->wait_for("echo:reload", "shout", wait_limit).has_value());
  // New connections get the new certificate: the old CA no longer verifies it.
  EXPECT_THROW(client::connect(f.client_for(*srv)), std::runtime_error);
  auto o = f.client_for(*srv);
  o.ca_file = new_ca;
  auto after = client::connect(o);
  expect_round_trip(*after, "echo:reloaded");

  // A broken file is refused and the current certificate stays.
  { std::ofstream(f.key_file) << "not a key"; }
  EXPECT_THROW(srv->reload_tls(), std::runtime_error);
  auto still = client::connect(o);
  EXPECT_TRUE(still->is_open());
}

TEST(Tls, SighupReloadsTheBinarysCertificates) {
  tls_fixture f;
  auto child = spawn_server({"--host", "127.0.0.1", "--port", "0", "--tls-cert", f.cert_file,
                             "--tls-key", f.key_file});
  auto port = listening_port(*child);
  ASSERT_NE(port, 0) << child->drain_stderr();
  client::options o;
  o.port = port;
  o.tls = true;
  o.ca_file = f.ca_file;
  auto before = client::connect(o);
  EXPECT_TRUE(await(before->heartbeat()).ok());

  auto new_ca = rotate_certificate(f, "Rotated CA");
  ASSERT_EQ(::kill(child->pid, SIGHUP), 0);
  // The reload happens on the server's signal thread: wait for it, bounded.
  auto o2 = o;
  o2.ca_file = new_ca;
  std::unique_ptr<client> after;
  within(wait_limit, [&] {
    try {
      after = client::connect(o2);
    } catch (const std::runtime_error&) {
    }
    return after != nullptr;
  });
  ASSERT_TRUE(after) << "the new certificate was not served after SIGHUP\n" << child->drain_stderr();
  EXPECT_TRUE(await(after->heartbeat()).ok());
  EXPECT_TRUE(await(before->heartbeat()).ok()) << "SIGHUP dropped an open connection";
  EXPECT_NE(child->drain_stderr().find("certificates reloaded"), std::string::npos);
  EXPECT_EQ(child->wait_exit(std::chrono::milliseconds(0)), -1) << "SIGHUP ended the server";
}

}  // namespace
}  // namespace roomcast::testing
