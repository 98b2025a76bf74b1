#pragma once
// The server's TLS context, replaceable at run time: reload() builds a new
// context from the files and swaps it in for new connections. Connections hold
// the context they started with (a shared_ptr), so a reload drops none of them,
// and a reload that fails (a missing or mismatched file) keeps the old context.

#include "roomcast/tls.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <mutex>

namespace roomcast::net {

using ssl_context_ptr = std::shared_ptr<boost::asio::ssl::context>;

/// A server context for `options`: TLS 1.2+ with forward-secret AEAD ciphers.
/// Throws std::runtime_error naming the file and OpenSSL's reason on failure.
ssl_context_ptr make_server_tls_context(const tls_options& options);

class tls_context_holder {
 public:
  explicit tls_context_holder(tls_options options);

  [[nodiscard]] ssl_context_ptr current() const;
  [[nodiscard]] bool allow_plain() const { return options_.allow_plain; }
  /// Re-reads the files; throws (and keeps the current context) when they do not load.
  void reload();

 private:
  const tls_options options_;
  mutable std::mutex mutex_;
  ssl_context_ptr context_;  // guarded by mutex_
};

}  // namespace roomcast::net
