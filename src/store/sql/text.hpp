#pragma once
// Text helpers the shared queries use for case-insensitive prefix search. Case folding is ASCII
// only on both databases (SQLite's lower(); PostgreSQL's lower() under COLLATE "C").
#include <algorithm>
#include <cctype>
#include <string>

namespace parley::store::sql {

inline std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// A LIKE pattern matching text that starts with `q`, with its wildcards escaped (ESCAPE '\')
/// so a search for "a_b" matches literally.
inline std::string like_prefix(const std::string& q) {
  std::string out;
  for (char c : q) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "%";
}

}  // namespace parley::store::sql
