#pragma once
// UTF-8 text helpers. Pure functions; thread-safe.
#include <cstddef>
#include <string>

namespace parley {

/// The first `n` code points of `text` (all of it when shorter); `cut` says whether any were
/// left off. Never splits a code point.
std::string utf8_prefix(const std::string& text, std::size_t n, bool& cut);

}  // namespace parley
