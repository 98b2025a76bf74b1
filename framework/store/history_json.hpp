#pragma once
// The JSON shape of a topic's history, as GET /api/topics/{topic}/history
// answers it. Payloads are stored as JSON text and copied in verbatim.

#include "roomcast/durability.hpp"

#include <string>
#include <string_view>

namespace roomcast::store {

/// {"topic", "oldest_seq", "last_seq", "messages": [{"seq", "event", "payload", "ts"}]}
[[nodiscard]] std::string history_json(std::string_view topic, const history_page& page);

}  // namespace roomcast::store
