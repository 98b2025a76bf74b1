#pragma once
// /metrics families for the gateway's backends, one series per backend
// (label backend="NAME": a proxy channel's pattern, or "connect").

#include "gateway/backend_client.hpp"

#include <memory>
#include <string>
#include <vector>

namespace roomcast::gateway {

[[nodiscard]] std::string render_backend_metrics(
    const std::vector<std::shared_ptr<backend_client>>& backends);

}  // namespace roomcast::gateway
