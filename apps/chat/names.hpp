#pragma once
// The demo's one naming rule, for user and room names alike.

#include <string_view>

namespace chat {

inline constexpr std::size_t max_name_length = 32;

/// 1-32 characters, each a letter, a digit, '_' or '-'.
inline bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > max_name_length) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace chat
