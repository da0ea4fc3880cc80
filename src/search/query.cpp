#include "search/query.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <iterator>

namespace parley::search {

namespace {

// Decodes the code point at `i` (advancing it); -1 for a malformed sequence (one byte skipped).
std::int32_t next_cp(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return -1;
  }
  std::int32_t cp = len == 1 ? b : b & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += len;
  return cp;
}

void append_cp(std::string& out, std::int32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Whether a code point is part of a word: letters and digits. ASCII exactly; beyond it, all but
// the punctuation, symbol and space blocks (an approximation of unicode61's letter classes).
bool word_cp(std::int32_t cp) {
  if (cp < 0) return false;
  if (cp < 0x80) return std::isalnum(cp) != 0;
  if (cp >= 0xA0 && cp <= 0xBF) return cp == 0xAA || cp == 0xB5 || cp == 0xBA || cp == 0xB2 || cp == 0xB3 || cp == 0xB9;
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, shapes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;
  if (cp >= 0x1F000 && cp <= 0x1FAFF) return false;  // emoji
  if (cp >= 0xFE00 && cp <= 0xFE0F) return false;    // variation selectors
  return true;
}

#include "search/fold_table.inc"

std::int32_t fold_cp(std::int32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= 0x300 && cp <= 0x36F) return -1;  // combining marks: dropped
  const auto* end = std::end(kFold);
  const auto* it = std::lower_bound(std::begin(kFold), end, static_cast<char32_t>(cp),
                                    [](const FoldPair& p, char32_t c) { return p.from < c; });
  return it != end && it->from == static_cast<char32_t>(cp) ? static_cast<std::int32_t>(it->to) : cp;
}

bool utf8_valid(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (next_cp(s, i) < 0) return false;
  }
  return true;
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    next_cp(s, i);
    ++n;
  }
  return n;
}

Error bad_query(std::string message) {
  Error e{Errc::invalid_request, std::move(message)};
  return e.with("parameter", "q");
}

// Quoted for FTS5: a string in double quotes, inner quotes doubled (words never hold one).
std::string fts_string(const std::vector<std::string>& words) {
  std::string out = "\"";
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i) out.push_back(' ');
    for (char c : words[i]) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

std::string ts_lexeme(const std::string& word, bool prefix) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'' || c == '\\') out.push_back(c == '\'' ? '\'' : '\\');
    out.push_back(c);
  }
  out.push_back('\'');
  if (prefix) out += ":*";
  return out;
}

}  // namespace

std::string fold(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (std::size_t i = 0; i < word.size();) {
    auto cp = next_cp(word, i);
    if (cp < 0) continue;
    auto f = fold_cp(cp);
    if (f >= 0) append_cp(out, f);
  }
  return out;
}

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    auto cp = next_cp(text, i);
    if (!word_cp(cp) && !(cp >= 0x300 && cp <= 0x36F)) continue;
    std::size_t end = i;
    while (i < text.size()) {
      std::size_t at = i;
      auto c = next_cp(text, i);
      if (!word_cp(c) && !(c >= 0x300 && c <= 0x36F)) {
        i = at;
        break;
      }
      end = i;
    }
    auto w = fold(text.substr(start, end - start));
    if (!w.empty()) out.push_back(Token{std::move(w), start, end});
    if (i == end && i < text.size()) next_cp(text, i);  // the separator that ended the word
  }
  return out;
}

std::string folded_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (auto& t : tokenize(text)) {
    if (!out.empty()) out.push_back(' ');
    out += t.word;
  }
  return out;
}

Result<Query> parse_query(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return bad_query("the query is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  if (!utf8_valid(text)) return bad_query("the query is not valid UTF-8");
  Query q;
  std::size_t i = 0;
  bool last_bare = false;  // the last term was typed without quotes or a trailing space
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0'; };
  while (i < text.size()) {
    if (space(text[i])) {
      ++i;
      last_bare = false;
      continue;
    }
    Term t;
    if (text[i] == '-' && i + 1 < text.size() && !space(text[i + 1])) {
      t.negated = true;
      ++i;
    }
    std::string_view body;
    bool quoted = false;
    if (text[i] == '"') {
      auto close = text.find('"', i + 1);
      std::size_t end = close == std::string_view::npos ? text.size() : close;
      body = text.substr(i + 1, end - i - 1);
      i = close == std::string_view::npos ? text.size() : close + 1;
      quoted = true;
    } else {
      std::size_t end = i;
      while (end < text.size() && !space(text[end]) && text[end] != '"') ++end;
      body = text.substr(i, end - i);
      i = end;
      if (!body.empty() && body.back() == '*') {
        t.prefix = true;
        while (!body.empty() && body.back() == '*') body.remove_suffix(1);
      }
    }
    for (auto& tok : tokenize(body)) t.words.push_back(std::move(tok.word));
    last_bare = !quoted && !t.prefix;
    if (t.words.empty()) continue;  // punctuation only: nothing to match
    q.terms.push_back(std::move(t));
    if (q.terms.size() > kMaxQueryTerms) {
      return bad_query("the query has more than " + std::to_string(kMaxQueryTerms) + " terms");
    }
  }
  // Search as you type: the word being typed matches as a prefix.
  if (last_bare && !q.terms.empty() && !q.terms.back().negated) q.terms.back().prefix = true;
  for (auto& t : q.terms) {
    if (t.prefix && code_points(t.words.back()) < kMinPrefixChars) t.prefix = false;
  }
  if (q.terms.empty()) return bad_query("the query has no words to search for");
  if (std::all_of(q.terms.begin(), q.terms.end(), [](const Term& t) { return t.negated; })) {
    return bad_query("the query needs at least one word that is not excluded");
  }
  return q;
}

std::string to_fts5(const Query& q) {
  std::string pos, neg;
  for (const auto& t : q.terms) {
    std::string s = fts_string(t.words);
    if (t.prefix) s.push_back('*');
    if (t.negated) {
      neg += " NOT " + s;
    } else {
      if (!pos.empty()) pos.push_back(' ');
      pos += s;
    }
  }
  return "(" + pos + ")" + neg;
}

std::string to_tsquery(const Query& q) {
  std::string out;
  for (const auto& t : q.terms) {
    if (!out.empty()) out += " & ";
    if (t.negated) out.push_back('!');
    if (t.words.size() > 1) out.push_back('(');
    for (std::size_t i = 0; i < t.words.size(); ++i) {
      if (i) out += " <-> ";
      out += ts_lexeme(t.words[i], t.prefix && i + 1 == t.words.size());
    }
    if (t.words.size() > 1) out.push_back(')');
  }
  return out;
}

std::string scope_token(char kind, std::string_view app_id, std::string_view id) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(app_id);
  mix(std::string_view("\0", 1));
  mix(id);
  static const char* hex = "0123456789abcdef";
  std::string out = {'z', kind};
  for (int shift = 60; shift >= 0; shift -= 4) out.push_back(hex[(h >> shift) & 15]);
  return out;
}

namespace {

// UTF-16 length of a UTF-8 string.
std::size_t utf16_len(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size();) {
    auto cp = next_cp(s, i);
    n += cp >= 0x10000 ? 2 : 1;
  }
  return n;
}

bool term_matches(const Term& t, const std::string& word) {
  for (std::size_t i = 0; i < t.words.size(); ++i) {
    const auto& w = t.words[i];
    bool prefix = t.prefix && i + 1 == t.words.size();
    if (prefix ? word.compare(0, w.size(), w) == 0 : word == w) return true;
  }
  return false;
}

}  // namespace

Snippet make_snippet(std::string_view text, const Query& q, std::size_t max_chars) {
  auto tokens = tokenize(text);
  std::vector<std::size_t> hits;  // indexes into tokens
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    for (const auto& t : q.terms) {
      if (!t.negated && term_matches(t, tokens[i].word)) {
        hits.push_back(i);
        break;
      }
    }
  }
  // The window: from a few words before the first match, about max_chars long, cut at words.
  std::size_t begin = 0;
  if (!hits.empty()) {
    std::size_t first = hits.front();
    std::size_t from = first >= 3 ? first - 3 : 0;
    begin = tokens[from].begin;
    if (first > 0 && tokens[first].begin - begin > max_chars / 3) begin = tokens[first].begin;
  }
  if (begin > 0 && text.size() - begin < max_chars) {  // near the end: show more before it
    std::size_t want = text.size() > max_chars ? text.size() - max_chars : 0;
    for (const auto& tok : tokens) {
      if (tok.begin >= want) {
        begin = std::min(begin, tok.begin);
        break;
      }
    }
  }
  std::size_t end = text.size();
  std::size_t chars = 0;
  for (std::size_t i = begin; i < text.size();) {
    std::size_t at = i;
    next_cp(text, i);
    if (++chars > max_chars) {
      end = at;
      break;
    }
  }
  if (end < text.size()) {  // end at a word boundary when one is near
    for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {
      if (it->end <= end && it->end > begin) {
        if (end - it->end < 24) end = it->end;
        break;
      }
    }
  }
  Snippet s;
  const std::string ellipsis = "\xE2\x80\xA6";
  if (begin > 0) s.text = ellipsis;
  std::size_t base16 = begin > 0 ? 1 : 0;
  s.text.append(text.substr(begin, end - begin));
  if (end < text.size()) s.text += ellipsis;
  for (auto h : hits) {
    const auto& tok = tokens[h];
    if (tok.begin < begin || tok.end > end) continue;
    std::size_t start = base16 + utf16_len(text.substr(begin, tok.begin - begin));
    std::size_t len = utf16_len(text.substr(tok.begin, tok.end - tok.begin));
    s.highlights.emplace_back(start, start + len);
  }
  return s;
}

}  // namespace parley::search
