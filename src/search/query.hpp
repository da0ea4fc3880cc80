#pragma once
// The search query language (docs/search.md, "Query syntax") and the text rules both indexes
// share: how text splits into words, how words fold (case, diacritics), the match expressions
// for SQLite FTS5 and PostgreSQL tsquery, and highlighted snippets. Whatever a user types
// becomes quoted words only, so no operator of either engine can be injected. Pure functions;
// thread-safe.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace parley::search {

inline constexpr std::size_t kMaxQueryBytes = 1000;
inline constexpr std::size_t kMaxQueryTerms = 32;

/// One term: a word, or a phrase of words in order. Words are folded (fold()).
struct Term {
  std::vector<std::string> words;
  bool negated = false;  // -word, -"phrase"
  bool prefix = false;   // the last word matches as a prefix (word*, or the query's last word)
};

/// Prefixes shorter than this (in characters) match as whole words: a one- or two-letter prefix
/// stands for thousands of words, which no index answers fast.
inline constexpr std::size_t kMinPrefixChars = 3;

struct Query {
  std::vector<Term> terms;  // at least one not negated
};

/// Parses what a user typed: words, "phrases", -exclusions, word* prefixes; the last bare word
/// is a prefix unless the query ends with a space (search as you type). invalid_request when it
/// is empty, only exclusions, over kMaxQueryBytes or kMaxQueryTerms, or not UTF-8.
Result<Query> parse_query(std::string_view text);

/// Lower case and without diacritics, for the Latin, Greek and Cyrillic letters (others pass
/// through): the folding SQLite's unicode61 tokenizer applies, done the same way on both stores.
std::string fold(std::string_view word);

/// The words of `text` as the indexes see them, folded, with their byte ranges in `text`.
struct Token {
  std::string word;
  std::size_t begin = 0, end = 0;
};
std::vector<Token> tokenize(std::string_view text);

/// `text` with every word folded, separated by spaces: what PostgreSQL's index is built from,
/// so both stores fold alike.
std::string folded_text(std::string_view text);

/// The FTS5 MATCH expression of `q`: quoted words, phrases and prefixes, then NOT terms.
std::string to_fts5(const Query& q);
/// The to_tsquery() input of `q`: quoted lexemes joined with &, phrases with <->, ! for NOT.
std::string to_tsquery(const Query& q);

/// The token of a channel (kind 'c') or an author (kind 'u') in SQLite's index `scope` column:
/// "z" + kind + 16 hex digits of a 64-bit hash of the app and id — one word, whatever the id.
std::string scope_token(char kind, std::string_view app_id, std::string_view id);

/// A piece of a message around its first match; highlights are [start, end) in UTF-16 code
/// units of `text` (what a JavaScript string indexes), sorted and not overlapping.
struct Snippet {
  std::string text;
  std::vector<std::pair<std::size_t, std::size_t>> highlights;
};
Snippet make_snippet(std::string_view text, const Query& q, std::size_t max_chars = 160);

}  // namespace parley::search
