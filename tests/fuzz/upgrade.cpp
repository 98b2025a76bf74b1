// libFuzzer target: what the upgrade path does with attacker-controlled text
// before any actor sees it: the request target (path and query decoding), the
// Origin allow-list, and finding the token in the query or the subprotocols.
// (Beast parses the HTTP itself.)
#include "auth/origin.hpp"
#include "auth/token_verifier.hpp"
#include "net/url.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  // One input feeds three fields, split at the first two newlines.
  auto first = input.find('\n');
  auto second = first == std::string::npos ? std::string::npos : input.find('\n', first + 1);
  std::string target = input.substr(0, first);
  std::string origin = first == std::string::npos ? "" : input.substr(first + 1, second - first - 1);
  std::string protocols = second == std::string::npos ? "" : input.substr(second + 1);

  if (auto parsed = roomcast::net::parse_target(target)) {
    auto token = parsed->query.find("token");
    (void)roomcast::auth::token_of(token == parsed->query.end() ? nullptr : &token->second,
                                   &protocols);
  }
  static const std::vector<std::string> allowed = {"https://chat.example.com",
                                                   "https://*.example.org", "http://localhost:4000"};
  (void)roomcast::auth::origin_allowed(origin, allowed);
  return 0;
}
