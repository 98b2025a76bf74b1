// What push/broadcast/send report, judged from a socket's published backlog.
#include "net/frame.hpp"

#include <gtest/gtest.h>

namespace roomcast::net {
namespace {

TEST(EstimateSend, IdleSocketTakesItAtOnce) {
  backlog_gauge g;
  EXPECT_EQ(estimate_send(g, 100, 1000, overflow_policy::close), send_status::success);
}

TEST(EstimateSend, ABacklogMeansBackpressure) {
  backlog_gauge g;
  g.bytes = 500;
  EXPECT_EQ(estimate_send(g, 100, 1000, overflow_policy::drop), send_status::backpressure);
  EXPECT_EQ(estimate_send(g, 500, 1000, overflow_policy::close), send_status::backpressure);
}

TEST(EstimateSend, OverBudgetIsDroppedExceptForDropOldest) {
  backlog_gauge g;
  g.bytes = 900;
  EXPECT_EQ(estimate_send(g, 200, 1000, overflow_policy::drop), send_status::dropped);
  EXPECT_EQ(estimate_send(g, 200, 1000, overflow_policy::close), send_status::dropped);
  EXPECT_EQ(estimate_send(g, 200, 1000, overflow_policy::drop_oldest),
            send_status::backpressure) << "older frames make way for it";
}

TEST(EstimateSend, AClosingSocketGetsNothing) {
  backlog_gauge g;
  g.closing = true;
  EXPECT_EQ(estimate_send(g, 1, 1000, overflow_policy::drop_oldest), send_status::dropped);
}

}  // namespace
}  // namespace roomcast::net
