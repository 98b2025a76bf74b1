#include "net/tls_context.hpp"

#include <boost/system/system_error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace roomcast::net {

namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers only.
// TLS 1.3 suites are OpenSSL's defaults (all AEAD).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

/// Runs an Asio context call, turning its exception into one that names the file.
template <class Fn>
void load(const char* what, const std::string& file, Fn&& fn) {
  try {
    fn();
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(std::string("TLS ") + what + " '" + file + "': " + e.what());
  }
}

}  // namespace

ssl_context_ptr make_server_tls_context(const tls_options& options) {
  if (options.key_file.empty()) throw std::runtime_error("TLS: a certificate needs its key file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1)
    throw std::runtime_error("TLS: cipher list refused: " + openssl_reason());

  load("certificate", options.cert_file,
       [&] { ctx->use_certificate_chain_file(options.cert_file); });
  load("key", options.key_file, [&] { ctx->use_private_key_file(options.key_file, ssl::context::pem); });
  if (SSL_CTX_check_private_key(native) != 1)
    throw std::runtime_error("TLS key '" + options.key_file + "' does not match certificate '" +
                             options.cert_file + "': " + openssl_reason());

  if (options.client_certs != client_cert_mode::none) {
    if (options.client_ca_file.empty())
      throw std::runtime_error("TLS: client certificates need a client CA file");
    load("client CA", options.client_ca_file,
         [&] { ctx->load_verify_file(options.client_ca_file); });
    // Names the acceptable CAs in the CertificateRequest.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(native, names);
    auto mode = ssl::verify_peer;
    if (options.client_certs == client_cert_mode::required) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode);
    // Resumed sessions keep their verified client: OpenSSL requires an id context.
    static constexpr unsigned char id_context[] = "roomcast";
    SSL_CTX_set_session_id_context(native, id_context, sizeof id_context - 1);
  }
  return ctx;
}

tls_context_holder::tls_context_holder(tls_options options)
    : options_(std::move(options)), context_(make_server_tls_context(options_)) {}

ssl_context_ptr tls_context_holder::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

void tls_context_holder::reload() {
  auto fresh = make_server_tls_context(options_);  // throws: the old one stays
  std::lock_guard lock(mutex_);
  context_ = std::move(fresh);
}

}  // namespace roomcast::net
