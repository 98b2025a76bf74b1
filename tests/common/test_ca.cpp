#include "common/test_ca.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <functional>
#include <stdexcept>

namespace roomcast::testing {

void test_ca::key_deleter::operator()(evp_pkey_st* k) const { EVP_PKEY_free(k); }
void test_ca::cert_deleter::operator()(x509_st* c) const { X509_free(c); }

namespace {

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free_all)>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test CA: ") + what + " failed");
}

key_ptr new_key() {
  key_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  check(key != nullptr, "key generation");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  check(X509_add_ext(cert, ext, -1) == 1, "adding an extension");
  X509_EXTENSION_free(ext);
}

/// A certificate for `key` named `cn`, valid from a minute ago for `days`.
cert_ptr new_cert(EVP_PKEY* key, const std::string& cn, long serial, int days) {
  cert_ptr cert(X509_new(), X509_free);
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600);
  check(X509_set_pubkey(cert.get(), key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  return cert;
}

void write_file(const std::string& path, const char* what,
                const std::function<int(BIO*)>& write) {
  bio_ptr bio(BIO_new_file(path.c_str(), "w"), BIO_free_all);
  check(bio != nullptr, what);
  check(write(bio.get()) == 1, what);
}

}  // namespace

test_ca::test_ca(const std::string& common_name) {
  auto key = new_key();
  auto cert = new_cert(key.get(), common_name, 1, 30);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "signing the CA");
  key_.reset(key.release());
  cert_.reset(cert.release());
}

test_ca::~test_ca() = default;

void test_ca::write_ca(const std::string& path) const {
  write_file(path, "writing the CA", [&](BIO* bio) { return PEM_write_bio_X509(bio, cert_.get()); });
}

std::string test_ca::issue(const std::string& prefix, const std::string& common_name,
                           const std::vector<std::string>& dns_names,
                           const std::vector<std::string>& ip_addresses, cert_use use,
                           int valid_days) {
  auto key = new_key();
  auto cert = new_cert(key.get(), common_name, next_serial_++, valid_days);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  add_extension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), cert_.get(), NID_ext_key_usage,
                use == cert_use::server   ? "serverAuth"
                : use == cert_use::client ? "clientAuth"
                                          : "serverAuth,clientAuth");
  add_extension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid");
  std::string names;
  for (const auto& dns : dns_names) names += (names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : ip_addresses) names += (names.empty() ? "IP:" : ",IP:") + ip;
  if (!names.empty()) add_extension(cert.get(), cert_.get(), NID_subject_alt_name, names);
  check(X509_sign(cert.get(), key_.get(), EVP_sha256()) > 0, "signing a certificate");

  const std::string cert_path = prefix + ".pem";
  write_file(cert_path, "writing a certificate",
             [&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
  write_file(prefix + "-key.pem", "writing a key", [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  return cert_path;
}

}  // namespace roomcast::testing
