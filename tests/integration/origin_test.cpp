// The Origin allow-list at upgrade, over real sockets: a page from another site
// gets 403 and the server goes on serving.
#include "test_server.hpp"

namespace roomcast::testing {
namespace {

std::unique_ptr<client> connect_from(const server& srv, const std::string& origin) {
  auto o = client_options(srv);
  if (!origin.empty()) o.headers["Origin"] = origin;
  return client::connect(o);
}

TEST(OriginCheck, UnknownOriginsGet403OthersConnect) {
  server_options o;
  o.allowed_origins = {"https://chat.example.com", "https://*.trusted.example"};
  auto srv = start_test_server(o);
  try {
    connect_from(*srv, "https://evil.example");
    FAIL() << "a page from another site opened a socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("403"), std::string::npos) << e.what();
  }
  auto good = connect_from(*srv, "https://chat.example.com");
  join_ok(*good, "echo:o");
  auto sub = connect_from(*srv, "https://eu.trusted.example");
  join_ok(*sub, "echo:o");
  auto tool = connect_from(*srv, "");  // no Origin: not a browser
  join_ok(*tool, "echo:o");
}

TEST(OriginCheck, NoListMeansNoCheck) {
  auto srv = start_test_server();
  auto any = connect_from(*srv, "https://anywhere.example");
  join_ok(*any, "echo:o");
}

}  // namespace
}  // namespace roomcast::testing
