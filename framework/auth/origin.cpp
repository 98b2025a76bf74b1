#include "auth/origin.hpp"

#include <cctype>

namespace roomcast::auth {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool matches(const std::string& origin, const std::string& entry) {
  auto star = entry.find("://*.");
  if (star == std::string::npos) return origin == entry;
  // "scheme://*.rest": same scheme, and a host that ends in ".rest" with at
  // least one label before it.
  std::string_view prefix(entry.data(), star + 3);  // "scheme://"
  std::string_view suffix(entry.data() + star + 4, entry.size() - star - 4);  // ".rest"
  if (origin.size() <= prefix.size() + suffix.size()) return false;
  if (origin.compare(0, prefix.size(), prefix) != 0) return false;
  if (origin.compare(origin.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string_view label(origin.data() + prefix.size(), origin.size() - prefix.size() - suffix.size());
  return label.find_first_of("/:@") == std::string_view::npos;  // a host label, nothing else
}

}  // namespace

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  auto wanted = lower(origin);
  for (const auto& entry : allowed)
    if (matches(wanted, lower(entry))) return true;
  return false;
}

}  // namespace roomcast::auth
