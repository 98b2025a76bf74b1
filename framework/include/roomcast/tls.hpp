#pragma once
// wss:// on the server's port: TLS 1.2 and 1.3 through OpenSSL (Beast's
// ssl_stream), optionally with client certificates. See docs/security.md.

#include <string>

namespace roomcast {

enum class client_cert_mode {
  none,      ///< no client certificate is asked for
  optional,  ///< asked for; one that is sent must verify against client_ca_file
  required,  ///< the handshake fails without a verified client certificate
};

struct tls_options {
  /// Server certificate chain (PEM, leaf first) and its private key (PEM).
  /// TLS is on when cert_file is set; both are re-read by server::reload_tls()
  /// (SIGHUP under run_until_signal) without dropping open connections.
  std::string cert_file;
  std::string key_file;
  /// CAs (PEM) that client certificates must chain to; needed unless client_certs is none.
  std::string client_ca_file;
  client_cert_mode client_certs = client_cert_mode::none;
  /// false: TLS only; a plain HTTP request gets 400 and the socket closes.
  /// true: each connection's first bytes decide (TLS ClientHello or plain HTTP),
  /// so ws:// and wss:// share the port.
  bool allow_plain = false;

  [[nodiscard]] bool enabled() const { return !cert_file.empty(); }
};

}  // namespace roomcast
