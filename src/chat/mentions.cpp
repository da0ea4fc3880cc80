#include "chat/mentions.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "core/json_reader.hpp"

namespace parley::chat {

namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '@';
}

}  // namespace

std::vector<std::string> mentions_in_text(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@' || (i > 0 && is_id_char(text[i - 1]))) continue;
    std::size_t j = i + 1;
    while (j < text.size() && is_id_char(text[j])) ++j;
    std::string id = text.substr(i + 1, j - i - 1);
    while (!id.empty() && (id.back() == '.' || id.back() == '-')) id.pop_back();  // sentence punctuation
    if (valid_external_id(id) && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    i = j - 1;
  }
  return out;
}

std::string mentions_json(const std::vector<std::string>& user_ids) {
  if (user_ids.empty()) return "[]";  // most messages mention nobody
  boost::json::array a;
  for (const auto& s : user_ids) a.emplace_back(s);
  return boost::json::serialize(a);
}

}  // namespace parley::chat
