// Link previews' pure parts: finding the URLs in a message's text, reading a page's metadata
// (OpenGraph, Twitter cards, <title>, oEmbed) with libxml2, and the preview JSON.
#include <gtest/gtest.h>

#include "previews/page_meta.hpp"

namespace parley::previews {
namespace {

using Urls = std::vector<std::string>;

TEST(FindUrls, TakesHttpAndHttpsUrlsInOrderWithoutTheSentencesPunctuation) {
  EXPECT_EQ(find_urls("see https://example.org/a, and http://x.test/b?q=1#f.", 5),
            (Urls{"https://example.org/a", "http://x.test/b?q=1#f"}));
  EXPECT_EQ(find_urls("(https://en.wikipedia.org/wiki/Rust_(programming_language))", 5),
            (Urls{"https://en.wikipedia.org/wiki/Rust_(programming_language)"}));
  EXPECT_EQ(find_urls("[https://example.org/x] <https://example.org/y> \"https://example.org/z\"", 5),
            (Urls{"https://example.org/x", "https://example.org/y", "https://example.org/z"}));
  EXPECT_EQ(find_urls("HTTPS://Example.org/Up", 5), (Urls{"HTTPS://Example.org/Up"}));
}

TEST(FindUrls, SkipsWhatIsNotAUrlAndRepeats) {
  EXPECT_TRUE(find_urls("no links, ftp://x.test, javascript:alert(1), http:/x, https://, http:// x", 5).empty());
  EXPECT_TRUE(find_urls("xhttp://glued.test and /http://path.test", 5).empty());
  EXPECT_EQ(find_urls("https://a.test https://a.test https://b.test", 5), (Urls{"https://a.test", "https://b.test"}));
  EXPECT_EQ(find_urls("https://a.test https://b.test https://c.test", 2), (Urls{"https://a.test", "https://b.test"}));
  EXPECT_TRUE(find_urls("https://a.test/" + std::string(kMaxUrlBytes, 'x'), 5).empty());
}

TEST(ParsePage, PrefersOpenGraphThenTwitterThenTheTitle) {
  auto m = parse_page(R"(<html><head><title>T</title><meta name="twitter:title" content="Tw">
    <meta property="og:title" content="  OG   &amp; co  "><meta name="description" content="D">
    <meta property="og:image" content="../img/a.png"></head></html>)",
                      "https://example.org/docs/page.html");
  EXPECT_EQ(m.title, "OG & co");
  EXPECT_EQ(m.description, "D");
  EXPECT_EQ(m.image_url, "https://example.org/img/a.png");
  EXPECT_FALSE(m.site_name);

  m = parse_page(R"(<head><meta name="twitter:title" content="Tw"><title>T</title></head>)", "https://e.test/");
  EXPECT_EQ(m.title, "Tw");
  m = parse_page("<title>\n Only\n  this </title>", "https://e.test/");
  EXPECT_EQ(m.title, "Only this");
}

TEST(ParsePage, KeepsOnlyHttpImagesAndFindsTheOembedLink) {
  auto m = parse_page(R"html(<meta property="og:image" content="javascript:alert(1)">
    <meta name="twitter:image" content="//cdn.test/t.jpg">
    <link rel="alternate" type="application/json+oembed" href="/oembed?u=1">)html",
                      "https://site.test/p");
  EXPECT_EQ(m.image_url, "https://cdn.test/t.jpg");
  EXPECT_EQ(m.oembed_url, "https://site.test/oembed?u=1");
  m = parse_page(R"(<meta property="og:image" content="data:image/png;base64,AAAA">)", "https://site.test/");
  EXPECT_FALSE(m.image_url);
}

TEST(ParsePage, SurvivesBrokenAndHostilePages) {
  EXPECT_FALSE(parse_page("", "https://e.test/").title);
  EXPECT_FALSE(parse_page(std::string("\xff\xfe\x00\x01<<<>>>", 10), "https://e.test/").title);
  // Scripts and styles are not text; a meta tag in the body still counts.
  auto m = parse_page(
      "<title><script>x()</script>Real</title><body><style>p{}</style>"
      "<meta property=og:site_name content=Site></body>",
      "https://e.test/");
  EXPECT_EQ(m.site_name, "Site");
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<div>";
  EXPECT_NO_FATAL_FAILURE(parse_page("<title>Deep</title>" + deep, "https://e.test/"));
  EXPECT_EQ(parse_page("<title>Deep</title>" + deep, "https://e.test/").title, "Deep");
}

TEST(ParsePage, CutsLongTextAtACharacter) {
  std::string title;
  for (int i = 0; i < 400; ++i) title += "é";
  auto m = parse_page("<title>" + title + "</title>", "https://e.test/");
  ASSERT_TRUE(m.title);
  EXPECT_EQ(m.title->substr(m.title->size() - 3), "\u2026");
  EXPECT_EQ(m.title->size(), kMaxTitleChars * 2 + 3);  // 300 two-byte characters and the ellipsis
}

TEST(ParsePage, ReadsTheCharsetItIsGiven) {
  const std::string latin1 = "<title>Caf\xe9</title>";
  EXPECT_EQ(parse_page(latin1, "https://e.test/", "ISO-8859-1").title, "Café");
  EXPECT_EQ(parse_page("<meta charset=\"iso-8859-1\"><title>Caf\xe9</title>", "https://e.test/").title, "Café");
  EXPECT_EQ(parse_page("<title>Café</title>", "https://e.test/", "no-such-charset").title, "Café");
}

TEST(Oembed, FillsOnlyWhatThePageLacks) {
  PageMeta m;
  m.title = "Page title";
  merge_oembed(
      m, R"({"title":"Video","author_name":"Ann","provider_name":"Tube","thumbnail_url":"https://t.test/i.jpg"})");
  EXPECT_EQ(m.title, "Page title");
  EXPECT_EQ(m.description, "Ann");
  EXPECT_EQ(m.site_name, "Tube");
  EXPECT_EQ(m.image_url, "https://t.test/i.jpg");
  PageMeta n;
  merge_oembed(n, "not json");
  merge_oembed(n, R"({"thumbnail_url":"file:///etc/passwd","title":42})");
  EXPECT_FALSE(n.title);
  EXPECT_FALSE(n.image_url);
}

TEST(LinkPreview, RoundTripsItsJsonAndNamesTheHostWhenTheSiteDoesNot) {
  PageMeta meta;
  meta.title = "T";
  auto p = to_preview("https://user@Docs.Example.org:8443/x?y", meta);
  EXPECT_EQ(p.site_name, "docs.example.org");
  EXPECT_TRUE(p.any());
  EXPECT_EQ(p.to_json(),
            R"({"url":"https://user@Docs.Example.org:8443/x?y","title":"T","site_name":"docs.example.org"})");
  auto back = LinkPreview::from_json(p.to_json());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->title, "T");
  EXPECT_FALSE(back->image_url);
  EXPECT_FALSE(LinkPreview::from_json("[]"));
  EXPECT_FALSE(to_preview("https://e.test/", PageMeta{}).any());
}

}  // namespace
}  // namespace parley::previews
