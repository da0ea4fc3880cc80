#include "store/sqlite/sqlite_dialect.hpp"

#include <cctype>

namespace parley::store::sqlite {

namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `sql` at `i` starts the keyword sequence `word` (case-insensitive, single spaces in
// `word` match one or more blanks), not inside a longer identifier. Sets `end` past it.
bool keyword_at(std::string_view sql, std::size_t i, std::string_view word, std::size_t& end) {
  if (i > 0 && ident_char(sql[i - 1])) return false;
  std::size_t j = i;
  for (char w : word) {
    if (w == ' ') {
      if (j >= sql.size() || !std::isspace(static_cast<unsigned char>(sql[j]))) return false;
      while (j < sql.size() && std::isspace(static_cast<unsigned char>(sql[j]))) ++j;
      continue;
    }
    if (j >= sql.size() || std::toupper(static_cast<unsigned char>(sql[j])) != w) return false;
    ++j;
  }
  if (j < sql.size() && ident_char(sql[j]) && ident_char(word.back())) return false;
  end = j;
  return true;
}

// Drops blanks already written before a removed clause ("x FOR UPDATE" -> "x").
void trim_back(std::string& out) {
  while (!out.empty() && out.back() == ' ') out.pop_back();
}

}  // namespace

std::string from_postgres_dialect(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  std::size_t i = 0;
  while (i < sql.size()) {
    char c = sql[i];
    std::size_t end = 0;
    if (c == '\'') {  // a string literal, '' escapes a quote inside it
      std::size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == '\'') {
          if (j + 1 < sql.size() && sql[j + 1] == '\'') {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      j = j < sql.size() ? j + 1 : j;
      out.append(sql.substr(i, j - i));
      i = j;
    } else if (c == '$' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
      out.push_back('?');
      ++i;
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      std::size_t j = i + 2;
      while (j < sql.size() && ident_char(sql[j])) ++j;
      if (j + 1 < sql.size() && sql[j] == '[' && sql[j + 1] == ']') j += 2;
      i = j;
    } else if (keyword_at(sql, i, "COLLATE \"C\"", end) || keyword_at(sql, i, "FOR NO KEY UPDATE", end) ||
               keyword_at(sql, i, "FOR UPDATE SKIP LOCKED", end) || keyword_at(sql, i, "FOR UPDATE", end)) {
      trim_back(out);
      i = end;
    } else if (keyword_at(sql, i, "GREATEST(", end)) {
      out += "max(";
      i = end;
    } else if (keyword_at(sql, i, "LEAST(", end)) {
      out += "min(";
      i = end;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

}  // namespace parley::store::sqlite
