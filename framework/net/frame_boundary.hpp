#pragma once
// Watches the raw bytes a WebSocket reader (Beast) takes from its socket, frame
// header by frame header, to tell when that reader holds no unread bytes: when
// everything it took ends exactly where the last message it delivered ended.
// Then an idle connection can wait for the socket to become readable instead of
// parking a read (and its buffer) in Beast. Only headers are looked at; payload
// bytes are skipped by count, so the cost per read is a few comparisons.

#include <cstddef>
#include <cstdint>

namespace roomcast::net {

class frame_boundary_tracker {
 public:
  /// The next `n` bytes of the stream, as the reader received them.
  void feed(const unsigned char* data, std::size_t n) noexcept {
    while (n > 0) {
      if (payload_left_ > 0) {
        auto take = payload_left_ < n ? static_cast<std::size_t>(payload_left_) : n;
        data += take;
        n -= take;
        payload_left_ -= take;
        if (payload_left_ == 0) end_frame();
        continue;
      }
      header_[header_have_++] = *data++;
      --n;
      if (header_have_ == 2) header_need_ = header_size(header_[1]);
      if (header_have_ >= 2 && header_have_ == header_need_) start_payload();
    }
  }

  /// True when a reader that has delivered `delivered` messages has consumed every
  /// byte fed so far: the stream ends with the end of that message and nothing
  /// after it (no control frame, no part of a next frame).
  [[nodiscard]] bool drained_after(std::uint64_t delivered) const noexcept {
    return header_have_ == 0 && payload_left_ == 0 && last_frame_ended_message_ &&
           messages_ended_ == delivered;
  }

  /// Messages whose final frame has been fed completely.
  [[nodiscard]] std::uint64_t messages_ended() const noexcept { return messages_ended_; }

 private:
  static std::uint8_t header_size(std::uint8_t second_byte) noexcept {
    std::uint8_t size = 2;
    auto len7 = second_byte & 0x7f;
    if (len7 == 126) size += 2;
    else if (len7 == 127) size += 8;
    if (second_byte & 0x80) size += 4;  // masking key
    return size;
  }

  void start_payload() noexcept {
    std::uint64_t length = header_[1] & 0x7f;
    if (length == 126) {
      length = (std::uint64_t{header_[2]} << 8) | header_[3];
    }
    else if (length == 127) {
      length = 0;
      for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | header_[i];
    }
    auto opcode = header_[0] & 0x0f;
    bool fin = (header_[0] & 0x80) != 0;
    // Continuation (0), text (1) or binary (2) with FIN: the last frame of a message.
    frame_ends_message_ = fin && opcode <= 2;
    header_have_ = 0;
    header_need_ = 2;
    payload_left_ = length;
    if (payload_left_ == 0) end_frame();
  }

  void end_frame() noexcept {
    last_frame_ended_message_ = frame_ends_message_;
    if (frame_ends_message_) ++messages_ended_;
  }

  std::uint64_t payload_left_ = 0;
  std::uint64_t messages_ended_ = 0;
  std::uint8_t header_[14] = {};
  std::uint8_t header_have_ = 0;
  std::uint8_t header_need_ = 2;
  bool frame_ends_message_ = false;
  bool last_frame_ended_message_ = true;  // nothing fed yet: nothing unread
};

}  // namespace roomcast::net
