#include "login.hpp"

#include "names.hpp"

#include "roomcast/tokens.hpp"

#include <boost/json.hpp>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace chat {

namespace json = boost::json;
using roomcast::http_response;

namespace {

http_response error(std::string_view code, std::string_view message) {
  return http_response::json(400, json::serialize(json::object{{"error", code}, {"message", message}}));
}

std::string read_secret(const std::string& path) {
  std::ifstream in(path);
  std::string secret;
  std::getline(in, secret);
  if (secret.empty()) throw std::runtime_error("the token secret in " + path + " is empty");
  return secret;
}

}  // namespace

std::string load_or_create_secret(const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  const std::string path = data_dir + "/chat-secret";
  if (std::filesystem::exists(path)) return read_secret(path);
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for the secret");
  static constexpr char hex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : bytes) {
    secret += hex[b >> 4];
    secret += hex[b & 0xf];
  }
  // Written to a temporary file, then linked into place: the secret file is
  // either complete or absent, and of two servers starting at once the first
  // link wins and the other reads it.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  std::string line = secret + "\n";
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  int linked = written ? ::link(temp.c_str(), path.c_str()) : -1;
  int link_errno = errno;
  ::unlink(temp.c_str());
  if (!written) throw std::runtime_error("cannot write " + temp);
  if (linked == 0) return secret;
  if (link_errno == EEXIST) return read_secret(path);
  throw std::runtime_error("cannot create " + path + ": " + std::strerror(link_errno));
}

http_response login(const roomcast::http_request& request, const std::string& secret,
                    std::chrono::seconds token_ttl) {
  boost::system::error_code ec;
  auto body = json::parse(request.body, ec);
  const auto* obj = ec ? nullptr : body.if_object();
  if (!obj) return error("bad_request", "send a JSON object: {\"name\": \"...\"}");
  const auto* name = obj->if_contains("name");
  if (!name || !name->is_string() || !valid_name(name->get_string()))
    return error("invalid_name", "a name is 1 to 32 letters, digits, '_' or '-'");
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto token = roomcast::sign_hs256(
      secret, json::object{{"sub", name->get_string()}, {"iat", now}, {"exp", now + token_ttl.count()}});
  return http_response::json(
      200, json::serialize(json::object{
               {"token", token}, {"user", name->get_string()}, {"expires_in", token_ttl.count()}}));
}

}  // namespace chat
