#pragma once
// Owning handles for libjwt 1.10's C objects, shared by the verifier and the signer.

#include <jwt.h>

#include <cstdlib>
#include <memory>

namespace roomcast::auth {

struct jwt_deleter {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
struct jwt_string_deleter {
  void operator()(char* s) const noexcept { std::free(s); }  // libjwt 1.10: the caller frees
};

using jwt_ptr = std::unique_ptr<jwt_t, jwt_deleter>;
using jwt_string = std::unique_ptr<char, jwt_string_deleter>;

}  // namespace roomcast::auth
