#pragma once
// Logging setup on spdlog: one line per event, key=value fields after the message, to stderr.
// Call init once at start-up before other threads log.
#include <string>

namespace parley::log {

/// level: trace|debug|info|warn|error|off. Throws std::invalid_argument on an unknown level.
void init(const std::string& level);

}  // namespace parley::log
