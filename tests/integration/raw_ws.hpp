#pragma once
// A bare WebSocket client over a blocking loopback socket, for tests that need
// what a polite client never does: stop reading, read late, or flood.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roomcast::testing {

class raw_ws {
 public:
  /// Connects and upgrades at `target`; `recv_buffer` > 0 shrinks SO_RCVBUF so a
  /// non-reading client backs up quickly. Throws on failure.
  raw_ws(std::uint16_t port, const std::string& target, int recv_buffer = 0);
  ~raw_ws();
  raw_ws(const raw_ws&) = delete;
  raw_ws& operator=(const raw_ws&) = delete;

  /// One masked text frame (payloads of any size).
  static std::string text_frame(std::string_view payload);
  /// Writes bytes as they are (e.g. many frames at once); false when the socket failed.
  bool write_all(std::string_view bytes);
  void send_text(std::string_view payload) { write_all(text_frame(payload)); }

  struct frame {
    int opcode = 0;  // 1 text, 2 binary, 8 close
    std::string payload;
  };
  /// The next frame within `timeout`; nullopt on timeout; a close frame or the end
  /// of the stream ends it (closed() then tells).
  std::optional<frame> read_frame(std::chrono::milliseconds timeout);
  [[nodiscard]] bool closed() const { return closed_; }

 private:
  bool fill(std::size_t need, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string in_;        // received bytes; [pos_, end) not parsed yet
  std::size_t pos_ = 0;
  bool closed_ = false;
};

}  // namespace roomcast::testing
