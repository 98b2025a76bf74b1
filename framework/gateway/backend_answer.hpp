#pragma once
// What a backend answers a proxied join, event or connect (docs/gateway.md),
// read strictly: anything else is a "backend_error". Pure.

#include "gateway/backend_client.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace roomcast::gateway {

namespace json = boost::json;

/// What the backend asks the topic to do besides answering.
struct instruction {
  enum class kind { broadcast, push };
  kind what = kind::broadcast;
  std::string event;
  json::value payload;
  std::string user_id;  ///< push: every member of the topic with this user id
};

struct backend_answer {
  enum class status { ok, error, noreply };
  status what = status::ok;
  json::value response = json::object();
  std::vector<instruction> instructions;
};

/// The answer to a join or event, or why it is not one.
std::variant<backend_answer, std::string> parse_answer(std::string_view body, bool join);

struct connect_answer {
  bool accepted = false;
  std::string user_id;
  json::object assigns;
  std::string reason;        ///< refused
  unsigned http_status = 403;  ///< refused
};

std::variant<connect_answer, std::string> parse_connect_answer(std::string_view body);

// Error reasons the clients get.
inline constexpr std::string_view backend_timeout = "backend_timeout";
inline constexpr std::string_view backend_unavailable = "backend_unavailable";
inline constexpr std::string_view backend_error = "backend_error";

/// The reason a client gets for a call that did not produce an answer.
std::string_view failure_reason(const call_result& result);

}  // namespace roomcast::gateway
