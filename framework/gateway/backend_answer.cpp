#include "gateway/backend_answer.hpp"

#include <boost/json/parse.hpp>

namespace roomcast::gateway {

namespace {

std::variant<std::vector<instruction>, std::string> read_instructions(const json::object& answer) {
  std::vector<instruction> out;
  const auto* list = answer.if_contains("instructions");
  if (!list || list->is_null()) return out;
  if (!list->is_array()) return std::string("\"instructions\" must be an array");
  for (const auto& item : list->get_array()) {
    const auto* object = item.if_object();
    const json::value* spec = nullptr;
    instruction one;
    if (object && (spec = object->if_contains("broadcast"))) {
      one.what = instruction::kind::broadcast;
    } else if (object && (spec = object->if_contains("push"))) {
      one.what = instruction::kind::push;
    } else {
      return std::string("an instruction must be {\"broadcast\": ...} or {\"push\": ...}");
    }
    const auto* fields = spec->if_object();
    const auto* event = fields ? fields->if_contains("event") : nullptr;
    if (!event || !event->is_string() || event->get_string().empty() ||
        event->get_string().starts_with("phx_"))
      return std::string("an instruction needs an \"event\" (a non-empty string not starting with phx_)");
    one.event = std::string(event->get_string());
    if (const auto* payload = fields->if_contains("payload")) one.payload = *payload;
    else one.payload = json::object();
    if (one.what == instruction::kind::push) {
      const auto* user = fields->if_contains("user_id");
      if (!user || !user->is_string() || user->get_string().empty())
        return std::string("a push instruction needs a \"user_id\"");
      one.user_id = std::string(user->get_string());
    }
    out.push_back(std::move(one));
  }
  return out;
}

std::variant<json::object, std::string> read_object(std::string_view body) {
  boost::system::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) return std::string("the body is not JSON");
  if (!value.is_object()) return std::string("the body is not a JSON object");
  return std::move(value.get_object());
}

}  // namespace

std::variant<backend_answer, std::string> parse_answer(std::string_view body, bool join) {
  auto read = read_object(body);
  if (auto* why = std::get_if<std::string>(&read)) return *why;
  const auto& answer = std::get<json::object>(read);
  const auto* status = answer.if_contains("status");
  if (!status || !status->is_string()) return std::string("\"status\" must be a string");
  backend_answer out;
  if (status->get_string() == "ok")
    out.what = backend_answer::status::ok;
  else if (status->get_string() == "error")
    out.what = backend_answer::status::error;
  else if (status->get_string() == "noreply" && !join)
    out.what = backend_answer::status::noreply;
  else
    return std::string(join ? "\"status\" must be \"ok\" or \"error\""
                            : "\"status\" must be \"ok\", \"error\" or \"noreply\"");
  if (const auto* response = answer.if_contains("response"); response && !response->is_null()) {
    if (!response->is_object()) return std::string("\"response\" must be an object");
    out.response = *response;
  }
  auto instructions = read_instructions(answer);
  if (auto* why = std::get_if<std::string>(&instructions)) return *why;
  out.instructions = std::move(std::get<std::vector<instruction>>(instructions));
  return out;
}

std::variant<connect_answer, std::string> parse_connect_answer(std::string_view body) {
  auto read = read_object(body);
  if (auto* why = std::get_if<std::string>(&read)) return *why;
  const auto& answer = std::get<json::object>(read);
  const auto* status = answer.if_contains("status");
  if (!status || !status->is_string()) return std::string("\"status\" must be a string");
  connect_answer out;
  if (status->get_string() == "ok") {
    out.accepted = true;
    if (const auto* user = answer.if_contains("user_id"); user && !user->is_null()) {
      if (!user->is_string()) return std::string("\"user_id\" must be a string");
      out.user_id = std::string(user->get_string());
    }
    if (const auto* assigns = answer.if_contains("assigns"); assigns && !assigns->is_null()) {
      if (!assigns->is_object()) return std::string("\"assigns\" must be an object");
      out.assigns = assigns->get_object();
    }
    return out;
  }
  if (status->get_string() != "error") return std::string("\"status\" must be \"ok\" or \"error\"");
  const auto* reason = answer.if_contains("reason");
  out.reason = reason && reason->is_string() ? std::string(reason->get_string()) : "refused";
  if (const auto* code = answer.if_contains("http_status")) {
    if (!code->is_int64() || code->get_int64() < 400 || code->get_int64() > 499)
      return std::string("\"http_status\" must be a 4xx status");
    out.http_status = static_cast<unsigned>(code->get_int64());
  }
  return out;
}

std::string_view failure_reason(const call_result& result) {
  switch (result.what) {
    case call_result::outcome::timeout: return backend_timeout;
    case call_result::outcome::unavailable:
    case call_result::outcome::busy: return backend_unavailable;
    default: return backend_error;
  }
}

}  // namespace roomcast::gateway
