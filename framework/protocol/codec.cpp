#include "protocol/codec.hpp"

#include "protocol/errors.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <vector>

namespace roomcast::protocol {

namespace json = boost::json;

namespace {

// -- decoding helpers -----------------------------------------------------------

decode_failure failure(std::string_view reason) {
  return decode_failure{std::string(reason), std::nullopt, std::nullopt, {}};
}

/// A ref is a string of at most 255 bytes (binary replies carry it behind one
/// length byte) or null. Anything else makes the envelope invalid.
bool read_ref(const json::value& v, std::optional<std::string>& out) {
  if (v.is_null()) {
    out.reset();
    return true;
  }
  if (v.is_string() && v.get_string().size() <= max_binary_field) {
    out.emplace(v.get_string().data(), v.get_string().size());
    return true;
  }
  return false;
}

/// Reads a length-prefixed binary layout: `sizes` length bytes follow the kind
/// byte, then the fields, then the payload.
template <std::size_t N>
bool split_binary(std::string_view frame, std::string_view (&fields)[N], std::string_view& data) {
  if (frame.size() < 1 + N) return false;
  std::size_t offset = 1 + N;
  for (std::size_t i = 0; i < N; ++i) {
    auto len = static_cast<unsigned char>(frame[1 + i]);
    if (frame.size() - offset < len) return false;
    fields[i] = frame.substr(offset, len);
    offset += len;
  }
  data = frame.substr(offset);
  return true;
}

std::optional<std::string> optional_field(std::string_view field) {
  if (field.empty()) return std::nullopt;
  return std::string(field);
}

/// Boost.JSON 1.81 parses an overflowing number (1e999) as infinity and would
/// serialize it back as `Infinity`, which is not JSON. Only a number with an
/// exponent or hundreds of digits can overflow, so scan for those first.
bool may_hold_overflow(std::string_view text) {
  std::size_t digits = 0;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (++digits >= 300) return true;
      continue;
    }
    if ((c == 'e' || c == 'E') && digits > 0) return true;
    digits = 0;
  }
  return false;
}

bool all_numbers_finite(const json::value& root) {
  std::vector<const json::value*> stack{&root};
  while (!stack.empty()) {
    const json::value* v = stack.back();
    stack.pop_back();
    switch (v->kind()) {
      case json::kind::double_:
        if (!std::isfinite(v->get_double())) return false;
        break;
      case json::kind::array:
        for (const auto& item : v->get_array()) stack.push_back(&item);
        break;
      case json::kind::object:
        for (const auto& item : v->get_object()) stack.push_back(&item.value());
        break;
      default:
        break;
    }
  }
  return true;
}

/// <<kind, len(field)..., field..., data>>: the one layout of every v2 binary frame.
std::string binary_frame(binary_kind kind, std::initializer_list<std::string_view> fields,
                         std::string_view data) {
  std::size_t size = 1 + fields.size() + data.size();
  for (auto field : fields) {
    if (field.size() > max_binary_field)
      throw std::length_error("phoenix binary frame field longer than 255 bytes");
    size += field.size();
  }
  std::string out;
  out.reserve(size);
  out += static_cast<char>(kind);
  for (auto field : fields) out += static_cast<char>(field.size());
  for (auto field : fields) out.append(field);
  out.append(data);
  return out;
}

void append_ref(std::string& out, opt_ref ref) {
  if (ref)
    append_json_string(out, *ref);
  else
    out += "null";
}

void append_envelope_head(std::string& out, opt_ref join_ref, opt_ref ref,
                          std::string_view topic, std::string_view event) {
  out += '[';
  append_ref(out, join_ref);
  out += ',';
  append_ref(out, ref);
  out += ',';
  append_json_string(out, topic);
  out += ',';
  append_json_string(out, event);
  out += ',';
}

}  // namespace

// -- decoding ---------------------------------------------------------------------

decode_result decode_text(std::string_view frame, const decode_limits& limits) {
  json::parse_options options;
  options.max_depth = limits.max_json_depth;
  std::error_code ec;
  json::value root = json::parse(frame, ec, json::storage_ptr(), options);
  if (ec) {
    if (ec == json::error::too_deep) return failure(reasons::too_deep);
    return failure(reasons::invalid_message);
  }
  if (!root.is_array()) return failure(reasons::invalid_message);
  auto& items = root.get_array();

  // Read what can be read first, so that even a rejected frame is answered on
  // its own topic and ref.
  decode_failure partial = failure(reasons::invalid_message);
  if (items.size() >= 3 && items[2].is_string())
    partial.topic.assign(items[2].get_string().data(), items[2].get_string().size());
  if (items.size() >= 2) {
    std::optional<std::string> ref;
    if (read_ref(items[1], ref)) partial.ref = std::move(ref);
  }
  if (items.size() >= 1) {
    std::optional<std::string> join_ref;
    if (read_ref(items[0], join_ref)) partial.join_ref = std::move(join_ref);
  }

  if (items.size() != 5) return partial;
  message msg;
  if (!read_ref(items[0], msg.join_ref) || !read_ref(items[1], msg.ref)) return partial;
  if (!items[2].is_string() || items[2].get_string().empty()) return partial;
  if (!items[3].is_string() || items[3].get_string().empty()) return partial;
  msg.topic.assign(items[2].get_string().data(), items[2].get_string().size());
  msg.event.assign(items[3].get_string().data(), items[3].get_string().size());
  if (may_hold_overflow(frame) && !all_numbers_finite(items[4])) {
    partial.reason = reasons::number_out_of_range;
    return partial;
  }
  msg.payload = std::move(items[4]);
  return msg;
}

decode_result decode_client_binary(std::string_view frame) {
  if (frame.empty() || static_cast<unsigned char>(frame[0]) !=
                           static_cast<unsigned char>(binary_kind::push))
    return failure(reasons::invalid_message);
  std::string_view fields[4];
  std::string_view data;
  if (!split_binary(frame, fields, data)) return failure(reasons::invalid_message);
  if (fields[2].empty() || fields[3].empty()) {
    auto f = failure(reasons::invalid_message);
    f.join_ref = optional_field(fields[0]);
    f.ref = optional_field(fields[1]);
    f.topic = std::string(fields[2]);
    return f;
  }
  message msg;
  msg.join_ref = optional_field(fields[0]);
  msg.ref = optional_field(fields[1]);
  msg.topic = std::string(fields[2]);
  msg.event = std::string(fields[3]);
  msg.binary = std::string(data);
  return msg;
}

decode_result decode_server_binary(std::string_view frame) {
  if (frame.empty()) return failure(reasons::invalid_message);
  message msg;
  std::string_view data;
  switch (static_cast<binary_kind>(frame[0])) {
    case binary_kind::push: {
      std::string_view f[3];
      if (!split_binary(frame, f, data)) return failure(reasons::invalid_message);
      msg.join_ref = optional_field(f[0]);
      msg.topic = std::string(f[1]);
      msg.event = std::string(f[2]);
      break;
    }
    case binary_kind::reply: {
      std::string_view f[4];
      if (!split_binary(frame, f, data)) return failure(reasons::invalid_message);
      msg.join_ref = optional_field(f[0]);
      msg.ref = optional_field(f[1]);
      msg.topic = std::string(f[2]);
      msg.event = std::string(events::reply);
      msg.payload = json::object{{"status", json::string(f[3])}};
      break;
    }
    case binary_kind::broadcast: {
      std::string_view f[2];
      if (!split_binary(frame, f, data)) return failure(reasons::invalid_message);
      msg.topic = std::string(f[0]);
      msg.event = std::string(f[1]);
      break;
    }
    default:
      return failure(reasons::invalid_message);
  }
  msg.binary = std::string(data);
  return msg;
}

// -- encoding ---------------------------------------------------------------------

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

std::string encode_text(opt_ref join_ref, opt_ref ref, std::string_view topic,
                        std::string_view event, const json::value& payload) {
  std::string out;
  out.reserve(32 + topic.size() + event.size());
  append_envelope_head(out, join_ref, ref, topic, event);
  out += json::serialize(payload);
  out += ']';
  return out;
}

std::string encode_text_raw(opt_ref join_ref, opt_ref ref, std::string_view topic,
                            std::string_view event, std::string_view payload_json) {
  std::string out;
  out.reserve(32 + topic.size() + event.size() + payload_json.size());
  append_envelope_head(out, join_ref, ref, topic, event);
  out += payload_json;
  out += ']';
  return out;
}

std::string encode_reply(opt_ref join_ref, opt_ref ref, std::string_view topic,
                         std::string_view status, const json::value& response) {
  std::string out;
  out.reserve(64 + topic.size());
  append_envelope_head(out, join_ref, ref, topic, events::reply);
  out += "{\"status\":";
  append_json_string(out, status);
  out += ",\"response\":";
  out += json::serialize(response);
  out += "}]";
  return out;
}

std::string encode_binary_push(std::string_view join_ref, std::string_view topic,
                               std::string_view event, std::string_view data) {
  return binary_frame(binary_kind::push, {join_ref, topic, event}, data);
}

std::string encode_binary_reply(std::string_view join_ref, std::string_view ref,
                                std::string_view topic, std::string_view status,
                                std::string_view data) {
  return binary_frame(binary_kind::reply, {join_ref, ref, topic, status}, data);
}

std::string encode_binary_broadcast(std::string_view topic, std::string_view event,
                                    std::string_view data) {
  return binary_frame(binary_kind::broadcast, {topic, event}, data);
}

std::string encode_client_binary_push(std::string_view join_ref, std::string_view ref,
                                      std::string_view topic, std::string_view event,
                                      std::string_view data) {
  return binary_frame(binary_kind::push, {join_ref, ref, topic, event}, data);
}

}  // namespace roomcast::protocol
