#include "raw_ws.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "test_server.hpp"

namespace roomcast::testing {

raw_ws::raw_ws(std::uint16_t port, const std::string& target, int recv_buffer) {
  fd_ = loopback_connect(port);
  if (fd_ < 0) throw std::runtime_error("raw_ws: connect failed");
  if (recv_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &recv_buffer, sizeof recv_buffer);
  std::string request = "GET " + target +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";
  if (!write_all(request)) throw std::runtime_error("raw_ws: write failed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (in_.find("\r\n\r\n") == std::string::npos)
    if (!fill(in_.size() + 1, deadline)) throw std::runtime_error("raw_ws: no upgrade response");
  if (in_.rfind("HTTP/1.1 101", 0) != 0) throw std::runtime_error("raw_ws: refused: " + in_);
  pos_ = in_.find("\r\n\r\n") + 4;
}

raw_ws::~raw_ws() {
  if (fd_ >= 0) ::close(fd_);
}

std::string raw_ws::text_frame(std::string_view payload) {
  std::string f;
  f += static_cast<char>(0x81);
  std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>((n >> 8) & 0xFF);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((n >> shift) & 0xFF);
  }
  f.append(4, '\0');  // mask key 0: the payload is unchanged
  f.append(payload);
  return f;
}

bool raw_ws::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool raw_ws::fill(std::size_t need, std::chrono::steady_clock::time_point deadline) {
  char buf[65536];
  while (in_.size() - pos_ < need) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    if (pos_ > 0 && pos_ * 2 > in_.size()) {  // compact now and then, not per frame
      in_.erase(0, pos_);
      pos_ = 0;
    }
    in_.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<raw_ws::frame> raw_ws::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!fill(2, deadline)) return std::nullopt;
  auto byte = [this](std::size_t i) { return static_cast<unsigned char>(in_[pos_ + i]); };
  std::size_t header = 2;
  std::uint64_t len = byte(1) & 0x7F;
  if (len == 126) header = 4;
  if (len == 127) header = 10;
  if (!fill(header, deadline)) return std::nullopt;
  if (len == 126) len = (byte(2) << 8) | byte(3);
  if (len == 127) {
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | byte(i);
  }
  if (!fill(header + len, deadline)) return std::nullopt;
  frame f;
  bool fin = (byte(0) & 0x80) != 0;
  f.opcode = byte(0) & 0x0F;
  f.payload = in_.substr(pos_ + header, len);
  pos_ += header + len;
  if (f.opcode == 8) closed_ = true;
  if (!fin) {  // a fragmented message: gather its continuation frames
    auto rest = read_frame(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!rest) return std::nullopt;
    f.payload += rest->payload;
  }
  return f;
}

}  // namespace roomcast::testing
