#include "store/history_json.hpp"

#include "protocol/codec.hpp"

namespace roomcast::store {

std::string history_json(std::string_view topic, const history_page& page) {
  std::string out = "{\"topic\":";
  protocol::append_json_string(out, topic);
  out += ",\"oldest_seq\":" + std::to_string(page.oldest_seq);
  out += ",\"last_seq\":" + std::to_string(page.last_seq);
  out += ",\"messages\":[";
  bool first = true;
  for (const auto& m : page.messages) {
    if (!first) out += ',';
    first = false;
    out += "{\"seq\":" + std::to_string(m.seq) + ",\"event\":";
    protocol::append_json_string(out, m.event);
    out += ",\"payload\":";
    out += m.payload;
    out += ",\"ts\":" + std::to_string(m.ts_ms) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace roomcast::store
