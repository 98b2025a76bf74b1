// libFuzzer target: the token parser. libjwt decodes and verifies, then the
// claim checks run; nothing may crash and no forged input may pass.
#include "auth/token_verifier.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const roomcast::auth::token_verifier verifier = [] {
    roomcast::token_options o;
    o.algorithm = "HS256";
    o.secret = "fuzzing-secret-that-the-fuzzer-does-not-know";
    o.audience = "roomcast";
    return roomcast::auth::token_verifier(o);
  }();
  std::string token(reinterpret_cast<const char*>(data), size);
  if (token.find('\0') != std::string::npos) return 0;  // never a valid query value
  (void)roomcast::auth::decode_base64(token);
  auto result = verifier.verify(token, 1'800'000'000);
  // Without the secret no input can carry a valid signature.
  if (result.ok) std::abort();
  return 0;
}
