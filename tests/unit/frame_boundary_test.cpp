// frame_boundary_tracker: tells when a WebSocket reader has consumed everything
// it took from the socket, from frame headers alone (RFC 6455 framing).
#include "net/frame_boundary.hpp"

#include <gtest/gtest.h>

#include <string>

namespace roomcast::net {
namespace {

/// One client frame: masked, with the length in the 7-, 16- or 64-bit form.
std::string frame(int opcode, bool fin, std::size_t length, bool masked = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | opcode);
  auto mask_bit = masked ? 0x80 : 0;
  if (length < 126) {
    f += static_cast<char>(mask_bit | static_cast<int>(length));
  }
  else if (length <= 0xFFFF) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>((length >> 8) & 0xFF);
    f += static_cast<char>(length & 0xFF);
  }
  else {
    f += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((length >> shift) & 0xFF);
  }
  if (masked) f += std::string("\x12\x34\x56\x78", 4);
  f.append(length, 'x');
  return f;
}

void feed(frame_boundary_tracker& t, const std::string& bytes) {
  t.feed(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

TEST(FrameBoundary, NothingFedIsDrained) {
  frame_boundary_tracker t;
  EXPECT_TRUE(t.drained_after(0));
}

TEST(FrameBoundary, OneWholeMessageIsDrainedOnceDelivered) {
  frame_boundary_tracker t;
  feed(t, frame(1, true, 5));
  EXPECT_EQ(t.messages_ended(), 1u);
  EXPECT_FALSE(t.drained_after(0));  // the reader has not delivered it yet
  EXPECT_TRUE(t.drained_after(1));
}

TEST(FrameBoundary, EveryLengthFormAndSplitAnywhere) {
  for (std::size_t length : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 70000u}) {
    auto bytes = frame(2, true, length);
    for (std::size_t cut = 0; cut <= bytes.size(); cut += (bytes.size() > 300 ? 997 : 1)) {
      frame_boundary_tracker t;
      feed(t, bytes.substr(0, cut));
      EXPECT_EQ(t.drained_after(0), cut == 0) << length << " cut at " << cut;
      EXPECT_FALSE(t.drained_after(1) && cut < bytes.size()) << length << " cut at " << cut;
      feed(t, bytes.substr(cut));
      EXPECT_TRUE(t.drained_after(1)) << length << " cut at " << cut;
    }
  }
}

TEST(FrameBoundary, ByteByByte) {
  frame_boundary_tracker t;
  auto bytes = frame(1, true, 300) + frame(1, true, 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    feed(t, bytes.substr(i, 1));
    bool whole_first = i + 1 == frame(1, true, 300).size();
    EXPECT_EQ(t.drained_after(1), whole_first) << i;
  }
  EXPECT_TRUE(t.drained_after(2));
}

TEST(FrameBoundary, AControlFrameAfterTheMessageIsStillUnread) {
  frame_boundary_tracker t;
  feed(t, frame(1, true, 4) + frame(9, true, 2));  // text, then a ping
  EXPECT_EQ(t.messages_ended(), 1u);
  EXPECT_FALSE(t.drained_after(1));  // the reader still has to answer the ping
  feed(t, frame(1, true, 1));
  EXPECT_TRUE(t.drained_after(2));
}

TEST(FrameBoundary, AFragmentedMessageEndsWithItsLastContinuation) {
  frame_boundary_tracker t;
  feed(t, frame(1, false, 10));
  EXPECT_FALSE(t.drained_after(0));
  feed(t, frame(9, true, 0));  // a ping between fragments
  EXPECT_FALSE(t.drained_after(0));
  feed(t, frame(0, false, 10));
  EXPECT_FALSE(t.drained_after(0));
  feed(t, frame(0, true, 3));
  EXPECT_EQ(t.messages_ended(), 1u);
  EXPECT_TRUE(t.drained_after(1));
}

TEST(FrameBoundary, UnmaskedFramesAndCloseFrames) {
  frame_boundary_tracker t;
  feed(t, frame(2, true, 200, false));
  EXPECT_TRUE(t.drained_after(1));
  feed(t, frame(8, true, 2));
  EXPECT_FALSE(t.drained_after(1));  // a close frame is not a message
}

}  // namespace
}  // namespace roomcast::net
