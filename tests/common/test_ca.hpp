#pragma once
// A throwaway certificate authority made at run time with OpenSSL (EC P-256,
// SHA-256), for TLS tests: no private key is ever committed.
//
//   test_ca ca("Test CA");
//   ca.write_ca(dir + "/ca.pem");
//   ca.issue(dir + "/server", {"localhost"}, {"127.0.0.1"});  // server.pem, server-key.pem

#include <memory>
#include <string>
#include <vector>

struct evp_pkey_st;
struct x509_st;

namespace roomcast::testing {

/// What a certificate is for (its extendedKeyUsage): a TLS server, a TLS
/// client, or a cluster node (both: nodes verify each other).
enum class cert_use { server, client, node };

class test_ca {
 public:
  explicit test_ca(const std::string& common_name);
  ~test_ca();
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  /// Writes the CA certificate (PEM).
  void write_ca(const std::string& path) const;

  /// Issues a certificate for `common_name` with the given DNS names and IP
  /// addresses as subjectAltName, writes `prefix`.pem and `prefix`-key.pem, and
  /// returns the certificate's path. Valid from a minute ago for `valid_days`.
  std::string issue(const std::string& prefix, const std::string& common_name,
                    const std::vector<std::string>& dns_names = {"localhost"},
                    const std::vector<std::string>& ip_addresses = {"127.0.0.1"},
                    cert_use use = cert_use::server, int valid_days = 1);

 private:
  struct key_deleter { void operator()(evp_pkey_st* k) const; };
  struct cert_deleter { void operator()(x509_st* c) const; };
  std::unique_ptr<evp_pkey_st, key_deleter> key_;
  std::unique_ptr<x509_st, cert_deleter> cert_;
  long next_serial_ = 2;
};

}  // namespace roomcast::testing
