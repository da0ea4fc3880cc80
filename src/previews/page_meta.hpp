#pragma once
// What a link preview shows, and how it is read: the URLs in a message's text, and a page's
// title, description, site name and image from its OpenGraph and Twitter-card tags (<title> and
// <meta name="description"> when those are missing), parsed with libxml2's forgiving HTML parser
// so malformed pages still yield what they have. Pure functions; thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::previews {

inline constexpr std::size_t kMaxTitleChars = 300;
inline constexpr std::size_t kMaxDescriptionChars = 1000;
inline constexpr std::size_t kMaxSiteNameChars = 100;
inline constexpr std::size_t kMaxUrlBytes = 2048;

/// A preview as attached to a message; absent fields are omitted from its JSON.
struct LinkPreview {
  std::string url;  // as written in the message
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> site_name;
  std::optional<std::string> image_url;  // absolute http(s)

  /// Worth showing: it has a title, a description or an image.
  bool any() const { return title || description || image_url; }
  std::string to_json() const;
  static std::optional<LinkPreview> from_json(std::string_view json);
};

/// The distinct http(s) URLs in `text`, in order of appearance, at most `max`. A URL ends at
/// whitespace or <>"; trailing punctuation (.,;:!?') is not part of it, nor a closing bracket
/// that has no opening one inside the URL. URLs longer than kMaxUrlBytes are skipped.
std::vector<std::string> find_urls(std::string_view text, std::size_t max);

/// What an HTML page says about itself.
struct PageMeta {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<std::string> site_name;
  std::optional<std::string> image_url;   // resolved against the page URL; http(s) only
  std::optional<std::string> oembed_url;  // <link rel="alternate" type="application/json+oembed">
};

/// Parses `html` (possibly cut short) fetched from `page_url`. `charset` is the one the
/// Content-Type header named, if any (otherwise the page's own <meta charset> or UTF-8).
/// Text comes out as UTF-8 with whitespace collapsed and long values cut at a character.
PageMeta parse_page(std::string_view html, const std::string& page_url, const std::string& charset = "");

/// Fills what `meta` lacks from an oEmbed JSON answer (title, author_name, provider_name,
/// thumbnail_url). Malformed JSON changes nothing.
void merge_oembed(PageMeta& meta, std::string_view oembed_json);

/// `meta` as the preview of `url` (the site name falls back to the URL's host).
LinkPreview to_preview(const std::string& url, const PageMeta& meta);

}  // namespace parley::previews
