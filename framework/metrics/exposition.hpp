#pragma once
// Prometheus text exposition format 0.0.4, written by hand: Debian 12 packages
// no Prometheus client library for C++ (prometheus-cpp is not in bookworm), and
// the format is small and fixed. One writer per scrape.

#include "metrics/histogram.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roomcast::metrics {

inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

class exposition {
 public:
  using labels = std::vector<std::pair<std::string_view, std::string>>;

  /// Starts a metric family: # HELP and # TYPE (counter, gauge or histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  /// One sample of the current family.
  void sample(std::string_view name, double value, const labels& l = {});
  void sample(std::string_view name, std::uint64_t value, const labels& l = {});
  /// A whole histogram family: cumulative _bucket lines, _sum and _count.
  void histogram(std::string_view name, std::string_view help, const metrics::histogram& h);
  /// The samples of one labelled histogram of the current family (after family()).
  void histogram_samples(std::string_view name, const metrics::histogram& h, const labels& l = {});

  [[nodiscard]] const std::string& text() const noexcept { return out_; }

 private:
  void write_labels(const labels& l);
  std::string out_;
};

/// Escapes a label value (backslash, double quote, newline).
[[nodiscard]] std::string escape_label(std::string_view value);

}  // namespace roomcast::metrics
