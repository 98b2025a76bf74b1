#pragma once
// A token bucket: `rate` tokens per second, at most `burst` banked. Pure; the
// caller passes the time, so tests control it.

#include <algorithm>
#include <chrono>

namespace roomcast::util {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// rate <= 0: unlimited.
  token_bucket(double rate, double burst, clock::time_point now = clock::now())
      : rate_(rate), burst_(std::max(burst, rate > 0 ? 1.0 : 0.0)), tokens_(burst_), last_(now) {}

  /// Takes `n` tokens if there are enough; false (and nothing taken) otherwise.
  bool take(double n, clock::time_point now = clock::now()) {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < n) return false;
    tokens_ -= n;
    return true;
  }

  /// Whether `n` tokens could be taken now (nothing is taken).
  [[nodiscard]] bool can_take(double n, clock::time_point now = clock::now()) {
    if (rate_ <= 0) return true;
    refill(now);
    return tokens_ >= n;
  }

  [[nodiscard]] bool unlimited() const noexcept { return rate_ <= 0; }

 private:
  void refill(clock::time_point now) {
    std::chrono::duration<double> elapsed = now - last_;
    last_ = now;
    if (elapsed.count() > 0) tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  }

  double rate_;
  double burst_;
  double tokens_;
  clock::time_point last_;
};

}  // namespace roomcast::util
