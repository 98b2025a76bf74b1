#include "auth/topic_rules.hpp"

#include "actors/topic_pattern.hpp"

namespace roomcast::auth {

namespace {

namespace json = boost::json;

/// A claim as a topic segment: strings as they are, integers in decimal.
std::optional<std::string> claim_text(const json::object& claims, std::string_view key) {
  const auto* v = claims.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  return std::nullopt;
}

/// The pattern with every "{claim}" replaced; nullopt when a claim is missing or
/// its value could escape its place (an empty value, or one holding '*').
std::optional<std::string> substitute(std::string_view pattern, const json::object& claims) {
  std::string out;
  while (!pattern.empty()) {
    auto open = pattern.find('{');
    if (open == std::string_view::npos) {
      out += pattern;
      break;
    }
    auto close = pattern.find('}', open);
    if (close == std::string_view::npos) return std::nullopt;
    out += pattern.substr(0, open);
    auto value = claim_text(claims, pattern.substr(open + 1, close - open - 1));
    // One topic segment: a value holding '*' or ':' could reach other topics.
    if (!value || value->empty() || value->find_first_of("*:") != std::string::npos)
      return std::nullopt;
    out += *value;
    pattern.remove_prefix(close + 1);
  }
  return out;
}

bool condition_holds(const topic_rule& rule, const json::object& claims) {
  if (rule.claim.empty()) return true;
  const auto* v = claims.if_contains(rule.claim);
  if (!v) return false;
  if (v->is_array()) {
    for (const auto& entry : v->get_array())
      if (entry.is_string() && entry.get_string() == rule.value) return true;
    return false;
  }
  auto text = claim_text(claims, rule.claim);
  return text && *text == rule.value;
}

}  // namespace

std::optional<topic_rule> parse_topic_rule(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  topic_rule rule;
  auto space = text.find(' ');
  rule.pattern = std::string(text.substr(0, space));
  if (space != std::string_view::npos) {
    auto condition = text.substr(space + 1);
    while (!condition.empty() && condition.front() == ' ') condition.remove_prefix(1);
    auto eq = condition.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == condition.size() ||
        condition.find(' ') != std::string_view::npos)
      return std::nullopt;
    rule.claim = std::string(condition.substr(0, eq));
    rule.value = std::string(condition.substr(eq + 1));
  }
  // Braces must pair up.
  int depth = 0;
  for (char c : rule.pattern) {
    if (c == '{' && ++depth > 1) return std::nullopt;
    if (c == '}' && --depth < 0) return std::nullopt;
  }
  if (depth != 0) return std::nullopt;
  return rule;
}

bool join_allowed(const std::vector<topic_rule>& rules, std::string_view topic,
                  const json::object& claims) {
  if (rules.empty()) return true;
  for (const auto& rule : rules) {
    if (!condition_holds(rule, claims)) continue;
    auto pattern = substitute(rule.pattern, claims);
    if (pattern && actors::topic_matches(*pattern, topic)) return true;
  }
  return false;
}

}  // namespace roomcast::auth
