// The search query language and its text rules: parsing what a user types, folding, the FTS5
// and tsquery expressions (only quoted words reach either engine), and highlighted snippets.
#include <gtest/gtest.h>

#include "search/query.hpp"

namespace parley::search {
namespace {

Query parsed(std::string_view text) {
  auto q = parse_query(text);
  EXPECT_TRUE(q) << text;
  return q ? *q : Query{};
}

TEST(ParseQuery, ReadsWordsPhrasesExclusionsAndPrefixes) {
  auto q = parsed("Deploy \"release notes\" -draft fri*");
  ASSERT_EQ(q.terms.size(), 4u);
  EXPECT_EQ(q.terms[0].words, std::vector<std::string>{"deploy"});
  EXPECT_FALSE(q.terms[0].prefix);
  EXPECT_EQ(q.terms[1].words, (std::vector<std::string>{"release", "notes"}));
  EXPECT_TRUE(q.terms[2].negated);
  EXPECT_EQ(q.terms[2].words, std::vector<std::string>{"draft"});
  EXPECT_TRUE(q.terms[3].prefix);
  EXPECT_EQ(q.terms[3].words, std::vector<std::string>{"fri"});
}

TEST(ParseQuery, TheWordBeingTypedIsAPrefixUntilASpaceFollowsIt) {
  EXPECT_TRUE(parsed("hello wor").terms.back().prefix);
  EXPECT_FALSE(parsed("hello wor ").terms.back().prefix);
  EXPECT_FALSE(parsed("hello \"wor\"").terms.back().prefix);
  EXPECT_FALSE(parsed("hello -wor").terms.back().prefix);
  EXPECT_FALSE(parsed("hello wor").terms.front().prefix);
  // Shorter than three letters: a whole word, typed or starred.
  EXPECT_FALSE(parsed("hello wo").terms.back().prefix);
  EXPECT_FALSE(parsed("wo*").terms.back().prefix);
  EXPECT_TRUE(parsed("żół").terms.back().prefix);  // letters, not bytes
}

TEST(ParseQuery, RefusesWhatHasNothingToFind) {
  for (std::string_view bad : {"", "   ", "-only", "-\"only this\"", "!!! ??? ...", "\"\""}) {
    auto q = parse_query(bad);
    ASSERT_FALSE(q) << bad;
    EXPECT_EQ(q.error().code, Errc::invalid_request);
  }
  EXPECT_FALSE(parse_query(std::string(kMaxQueryBytes + 1, 'a')));
  std::string many;
  for (int i = 0; i < 40; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_FALSE(parse_query(many));
  EXPECT_FALSE(parse_query("caf\xC3"));  // cut UTF-8
}

TEST(ParseQuery, OperatorsOfTheEnginesAreOnlyWords) {
  // FTS5 and tsquery syntax typed by a user: every piece ends up a quoted word.
  auto q = parsed("a OR b NEAR(c d) text:e f^ (g) 'h' & !i | j:* <-> k\\ l\"");
  for (const auto& t : q.terms) {
    for (const auto& w : t.words) {
      for (char c : w) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << w;
    }
  }
  auto fts = to_fts5(q);
  EXPECT_EQ(fts.find('('), 0u);
  EXPECT_EQ(fts.find("NEAR("), std::string::npos);
  EXPECT_NE(fts.find("\"or\""), std::string::npos);
  auto ts = to_tsquery(q);
  EXPECT_EQ(ts.find('|'), std::string::npos);
  EXPECT_NE(ts.find("'or'"), std::string::npos);
}

TEST(ParseQuery, BuildsTheEngineExpressions) {
  auto q = parsed("Ship \"new build\" -flaky tes");
  EXPECT_EQ(to_fts5(q), "(\"ship\" \"new build\" \"tes\"*) NOT \"flaky\"");
  EXPECT_EQ(to_tsquery(q), "'ship' & ('new' <-> 'build') & !'flaky' & 'tes':*");
}

TEST(Fold, RemovesCaseAndDiacriticsOfLatinGreekAndCyrillic) {
  EXPECT_EQ(fold("Ça Déjà Vu ÅNGSTRÖM"), "ca deja vu angstrom");
  EXPECT_EQ(fold("Łódź"), "łodz");  // the stroke is not a diacritic (as in unicode61)
  EXPECT_EQ(fold("ΆΘΗΝΑ"), "αθηνα");
  EXPECT_EQ(fold("ПРИВЕТ Ёлка"), "привет елка");
  EXPECT_EQ(fold("e\xCC\x81"), "e");  // a combining acute accent
}

TEST(Tokenize, SplitsOnPunctuationSymbolsAndEmoji) {
  auto t = tokenize("foo_bar, baz-qux! \xF0\x9F\x98\x80 naïve—ok 42");
  std::vector<std::string> words;
  for (auto& x : t) words.push_back(x.word);
  EXPECT_EQ(words, (std::vector<std::string>{"foo", "bar", "baz", "qux", "naive", "ok", "42"}));
  EXPECT_EQ(folded_text("Hello, WORLD"), "hello world");
}

TEST(Snippet, HighlightsTheMatchesInUtf16Offsets) {
  auto q = parsed("deploy fri");
  auto s = make_snippet("We deploy on Friday 🚀 then deploy again", q);
  EXPECT_EQ(s.text, "We deploy on Friday 🚀 then deploy again");
  ASSERT_EQ(s.highlights.size(), 3u);
  EXPECT_EQ(s.highlights[0], (std::pair<std::size_t, std::size_t>{3, 9}));
  EXPECT_EQ(s.highlights[1], (std::pair<std::size_t, std::size_t>{13, 19}));
  // After the emoji (two UTF-16 units): "We deploy on Friday 🚀 then " is 28 units.
  EXPECT_EQ(s.highlights[2], (std::pair<std::size_t, std::size_t>{28, 34}));
}

TEST(Snippet, CutsALongTextAroundTheFirstMatch) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "filler" + std::to_string(i) + " ";
  text += "needle ";
  for (int i = 0; i < 60; ++i) text += "after" + std::to_string(i) + " ";
  auto s = make_snippet(text, parsed("needle "), 80);
  EXPECT_EQ(s.text.rfind("\xE2\x80\xA6", 0), 0u);  // starts with an ellipsis
  EXPECT_LE(s.text.size(), 80u + 8u);
  ASSERT_EQ(s.highlights.size(), 1u);
  // "…" is one UTF-16 unit and the rest is ASCII, so the offsets index the bytes after it.
  EXPECT_EQ(s.text.substr(s.highlights[0].first + 2, 6), "needle");
  // No match (an index a moment behind an edit): the start of the text, nothing marked.
  auto none = make_snippet("nothing here", parsed("absent "));
  EXPECT_EQ(none.text, "nothing here");
  EXPECT_TRUE(none.highlights.empty());
}

TEST(ScopeToken, IsOneWordPerAppAndIdWhateverTheIdHolds) {
  auto t = scope_token('c', "app_a", "ch-1_x y");
  EXPECT_EQ(t.size(), 18u);
  EXPECT_EQ(t.rfind("zc", 0), 0u);
  EXPECT_EQ(tokenize(t).size(), 1u);
  EXPECT_EQ(t, scope_token('c', "app_a", "ch-1_x y"));
  EXPECT_NE(t, scope_token('c', "app_b", "ch-1_x y"));  // another app's channel of the same id
  EXPECT_NE(t, scope_token('u', "app_a", "ch-1_x y"));
  EXPECT_NE(scope_token('c', "ab", "c"), scope_token('c', "a", "bc"));
}

}  // namespace
}  // namespace parley::search
