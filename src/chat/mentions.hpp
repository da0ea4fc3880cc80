#pragma once
// Mentions in message text. Pure functions; thread-safe.
#include <cstddef>
#include <string>
#include <vector>

namespace parley::chat {

constexpr std::size_t kMaxMentions = 50;

/// `@user_id` tokens in text, in order, without duplicates.
std::vector<std::string> mentions_in_text(const std::string& text);
/// A message's stored mentions list: a JSON array of user ids.
std::string mentions_json(const std::vector<std::string>& user_ids);

}  // namespace parley::chat
