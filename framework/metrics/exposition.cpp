#include "metrics/exposition.hpp"

#include <cmath>
#include <cstdio>

namespace roomcast::metrics {

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) out_ += c == '\n' ? ' ' : c;  // HELP is one line
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void exposition::write_labels(const labels& l) {
  if (l.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [key, value] : l) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    out_ += escape_label(value);
    out_ += '"';
  }
  out_ += '}';
}

void exposition::sample(std::string_view name, double value, const labels& l) {
  out_ += name;
  write_labels(l);
  char buf[64];
  if (std::isinf(value)) std::snprintf(buf, sizeof buf, " %s\n", value > 0 ? "+Inf" : "-Inf");
  else std::snprintf(buf, sizeof buf, " %.17g\n", value);
  out_ += buf;
}

void exposition::sample(std::string_view name, std::uint64_t value, const labels& l) {
  out_ += name;
  write_labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void exposition::histogram(std::string_view name, std::string_view help,
                           const metrics::histogram& h) {
  family(name, "histogram", help);
  histogram_samples(name, h);
}

void exposition::histogram_samples(std::string_view name, const metrics::histogram& h,
                                   const labels& l) {
  std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  auto with_le = [&](std::string le) {
    labels all = l;
    all.emplace_back("le", std::move(le));
    return all;
  };
  for (std::size_t i = 0; i < metrics::histogram::bounds.size(); ++i) {
    cumulative += h.bucket(i);
    char le[32];
    std::snprintf(le, sizeof le, "%g", metrics::histogram::bounds[i]);
    sample(bucket, cumulative, with_le(le));
  }
  cumulative += h.bucket(metrics::histogram::bounds.size());
  sample(bucket, cumulative, with_le("+Inf"));
  sample(std::string(name) + "_sum", h.sum_seconds(), l);
  sample(std::string(name) + "_count", cumulative, l);
}

}  // namespace roomcast::metrics
