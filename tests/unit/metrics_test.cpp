// The Prometheus text writer and the histogram behind it.
#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

namespace roomcast::metrics {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, BucketsAreCumulativeWithSumAndCount) {
  histogram h;
  h.observe(50us);   // <= 0.0001
  h.observe(2ms);    // <= 0.0025
  h.observe(2ms);
  h.observe(5s);     // only +Inf
  exposition e;
  e.histogram("x_seconds", "a test", h);
  const auto& t = e.text();
  EXPECT_NE(t.find("# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_NE(t.find("x_seconds_bucket{le=\"0.0001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_bucket{le=\"0.001\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_bucket{le=\"0.0025\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_count 4\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_seconds_sum 5.00405"), std::string::npos) << t;
}

TEST(Exposition, FamiliesSamplesAndEscapedLabels) {
  exposition e;
  e.family("c_total", "counter", "multi\nline help");
  e.sample("c_total", std::uint64_t{7}, {{"reason", "a\"b\\c\nd"}});
  EXPECT_EQ(e.text(),
            "# HELP c_total multi line help\n"
            "# TYPE c_total counter\n"
            "c_total{reason=\"a\\\"b\\\\c\\nd\"} 7\n");
}

}  // namespace
}  // namespace roomcast::metrics
