// roomcast-test-certs DIR: writes a throwaway CA and certificates for TLS tests
// in other languages (tests/js): ca.pem, server.pem + server-key.pem (localhost,
// 127.0.0.1), client.pem + client-key.pem (CN=js-client).
#include "common/test_ca.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: roomcast-test-certs DIR\n";
    return 2;
  }
  try {
    const std::string dir = argv[1];
    roomcast::testing::test_ca ca("Roomcast JS Test CA");
    ca.write_ca(dir + "/ca.pem");
    ca.issue(dir + "/server", "localhost");
    ca.issue(dir + "/client", "js-client", {}, {}, roomcast::testing::cert_use::client);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-test-certs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
