#pragma once
// Everything GET /metrics reports, gathered from the server's live counters.

#include "store/store_actor.hpp"
#include "util/counters.hpp"

#include <cstddef>
#include <string>

namespace roomcast::metrics {

/// The Prometheus text for one scrape. `open_sockets`: the session registry's size.
[[nodiscard]] std::string render(const util::counters& c, std::size_t open_sockets,
                                 const store::store_health& store, bool accepting);

}  // namespace roomcast::metrics
