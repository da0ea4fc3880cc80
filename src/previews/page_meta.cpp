#include "previews/page_meta.hpp"

#include <libxml/HTMLparser.h>
#include <libxml/encoding.h>
#include <libxml/uri.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "core/utf8.hpp"
#include "store/sql/text.hpp"

namespace parley::previews {

namespace json = boost::json;

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

bool is_http_url(std::string_view u) { return starts_with_ci(u, "http://") || starts_with_ci(u, "https://"); }

// Whitespace runs become one space, ends trimmed; nullopt when nothing is left. Cut at `max`
// code points, with an ellipsis when cut.
std::optional<std::string> clean(std::string_view in, std::size_t max) {
  std::string out;
  out.reserve(std::min(in.size(), max * 4));
  bool space = false;
  for (char c : in) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() > max * 4 + 8) break;  // enough bytes for max code points
  }
  if (out.empty()) return std::nullopt;
  bool cut = false;
  std::string prefix = utf8_prefix(out, max, cut);
  if (cut) {
    while (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
    prefix += "\u2026";
  }
  return prefix;
}

// `href` resolved against `base`; nullopt unless the result is an http(s) URL of sane length.
std::optional<std::string> resolve(std::string_view href, const std::string& base) {
  std::string h(href);
  while (!h.empty() && is_space(h.back())) h.pop_back();
  std::size_t start = 0;
  while (start < h.size() && is_space(h[start])) ++start;
  h.erase(0, start);
  if (h.empty() || h.size() > kMaxUrlBytes) return std::nullopt;
  std::unique_ptr<xmlChar, decltype(xmlFree)> built(
      xmlBuildURI(reinterpret_cast<const xmlChar*>(h.c_str()), reinterpret_cast<const xmlChar*>(base.c_str())),
      xmlFree);
  if (!built) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(built.get()));
  if (!is_http_url(out) || out.size() > kMaxUrlBytes) return std::nullopt;
  return out;
}

std::string attr(xmlNode* n, const char* name) {
  std::unique_ptr<xmlChar, decltype(xmlFree)> v(xmlGetProp(n, reinterpret_cast<const xmlChar*>(name)), xmlFree);
  return v ? std::string(reinterpret_cast<const char*>(v.get())) : std::string();
}

std::string text_of(xmlNode* n) {
  std::unique_ptr<xmlChar, decltype(xmlFree)> v(xmlNodeGetContent(n), xmlFree);
  return v ? std::string(reinterpret_cast<const char*>(v.get())) : std::string();
}

struct Found {
  std::map<std::string, std::string> meta;  // first value of each property/name, lower-case keys
  std::optional<std::string> title;
  std::optional<std::string> oembed_href;
};

// Walks the whole tree without recursion (a hostile page may nest deeply), at most 200,000
// elements: metadata belongs in <head>, but malformed pages put it anywhere.
void walk(xmlNode* root, Found& f) {
  std::vector<xmlNode*> stack{root};
  std::size_t visited = 0;
  while (!stack.empty() && ++visited < 200'000) {
    xmlNode* n = stack.back();
    stack.pop_back();
    for (; n; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      const std::string_view name(reinterpret_cast<const char*>(n->name));
      if (name == "meta") {
        std::string key = store::sql::ascii_lower(attr(n, "property"));
        if (key.empty()) key = store::sql::ascii_lower(attr(n, "name"));
        if (!key.empty()) f.meta.try_emplace(key, attr(n, "content"));
      } else if (name == "title") {
        if (!f.title) f.title = text_of(n);
      } else if (name == "link") {
        if (!f.oembed_href && store::sql::ascii_lower(attr(n, "type")) == "application/json+oembed")
          f.oembed_href = attr(n, "href");
      } else if (name == "script" || name == "style" || name == "svg") {
        continue;
      }
      if (n->children) stack.push_back(n->children);
    }
  }
}

std::optional<std::string> first_of(const Found& f, std::initializer_list<const char*> keys, std::size_t max) {
  for (const char* k : keys) {
    auto it = f.meta.find(k);
    if (it == f.meta.end()) continue;
    if (auto v = clean(it->second, max)) return v;
  }
  return std::nullopt;
}

// A charset libxml2 knows, or "" (then it reads the page's own declaration, else UTF-8).
std::string known_charset(const std::string& charset) {
  if (charset.empty()) return {};
  xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset.c_str());
  if (!h) return {};
  xmlCharEncCloseFunc(h);
  return charset;
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};

}  // namespace

std::string LinkPreview::to_json() const {
  json::object o{{"url", url}};
  if (title) o["title"] = *title;
  if (description) o["description"] = *description;
  if (site_name) o["site_name"] = *site_name;
  if (image_url) o["image_url"] = *image_url;
  return json::serialize(o);
}

std::optional<LinkPreview> LinkPreview::from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto get = [&](const char* k) -> std::optional<std::string> {
    auto* p = o.if_contains(k);
    if (!p || !p->is_string()) return std::nullopt;
    return std::string(p->as_string());
  };
  LinkPreview p;
  auto url = get("url");
  if (!url) return std::nullopt;
  p.url = *url;
  p.title = get("title");
  p.description = get("description");
  p.site_name = get("site_name");
  p.image_url = get("image_url");
  return p;
}

std::vector<std::string> find_urls(std::string_view text, std::size_t max) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (out.size() < max && i < text.size()) {
    const std::size_t at = std::min(text.find_first_of("hH", i), text.size());
    if (at == text.size()) break;
    i = at + 1;
    // Only at a word start: "xhttp://" is not a URL.
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(text[at - 1])) || text[at - 1] == '/')) continue;
    const std::string_view rest = text.substr(at);
    const std::size_t scheme = starts_with_ci(rest, "https://") ? 8 : starts_with_ci(rest, "http://") ? 7 : 0;
    if (scheme == 0) continue;
    std::size_t end = at + scheme;
    while (end < text.size() && !is_space(text[end]) && text[end] != '<' && text[end] != '>' && text[end] != '"' &&
           static_cast<unsigned char>(text[end]) >= 0x20) {
      ++end;
    }
    std::string url(text.substr(at, end - at));
    // Trailing punctuation belongs to the sentence; a closing bracket only to a URL that opened one.
    auto unbalanced = [&](char open, char close) {
      return url.back() == close &&
             std::count(url.begin(), url.end(), open) < std::count(url.begin(), url.end(), close);
    };
    while (url.size() > scheme && (std::string_view(".,;:!?'*_").find(url.back()) != std::string_view::npos ||
                                   unbalanced('(', ')') || unbalanced('[', ']'))) {
      url.pop_back();
    }
    i = end;
    if (url.size() <= scheme || url.size() > kMaxUrlBytes) continue;
    if (url[scheme] == '/' || url[scheme] == '.' || url[scheme] == '?' || url[scheme] == '#') continue;  // no host
    if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
  }
  return out;
}

PageMeta parse_page(std::string_view html, const std::string& page_url, const std::string& charset) {
  PageMeta meta;
  if (html.empty()) return meta;
  const std::string encoding = known_charset(charset);
  const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                      HTML_PARSE_NOIMPLIED | HTML_PARSE_COMPACT;
  std::unique_ptr<xmlDoc, DocFree> doc(
      htmlReadMemory(html.data(), static_cast<int>(std::min<std::size_t>(html.size(), 1 << 30)), page_url.c_str(),
                     encoding.empty() ? nullptr : encoding.c_str(), options));
  if (!doc) return meta;
  Found f;
  walk(xmlDocGetRootElement(doc.get()), f);
  meta.title = first_of(f, {"og:title", "twitter:title"}, kMaxTitleChars);
  if (!meta.title && f.title) meta.title = clean(*f.title, kMaxTitleChars);
  meta.description = first_of(f, {"og:description", "twitter:description", "description"}, kMaxDescriptionChars);
  meta.site_name = first_of(f, {"og:site_name", "application-name"}, kMaxSiteNameChars);
  for (const char* k : {"og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src"}) {
    auto it = f.meta.find(k);
    if (it == f.meta.end()) continue;
    if ((meta.image_url = resolve(it->second, page_url))) break;
  }
  if (f.oembed_href) meta.oembed_url = resolve(*f.oembed_href, page_url);
  return meta;
}

void merge_oembed(PageMeta& meta, std::string_view oembed_json) {
  boost::system::error_code ec;
  auto v = json::parse(oembed_json, ec);
  if (ec || !v.is_object()) return;
  const auto& o = v.as_object();
  auto get = [&](const char* k, std::size_t max) -> std::optional<std::string> {
    auto* p = o.if_contains(k);
    if (!p || !p->is_string()) return std::nullopt;
    return clean(std::string_view(p->as_string()), max);
  };
  if (!meta.title) meta.title = get("title", kMaxTitleChars);
  if (!meta.description) meta.description = get("author_name", kMaxDescriptionChars);
  if (!meta.site_name) meta.site_name = get("provider_name", kMaxSiteNameChars);
  if (!meta.image_url) {
    if (auto thumb = get("thumbnail_url", kMaxUrlBytes); thumb && is_http_url(*thumb)) meta.image_url = thumb;
  }
}

LinkPreview to_preview(const std::string& url, const PageMeta& meta) {
  LinkPreview p;
  p.url = url;
  p.title = meta.title;
  p.description = meta.description;
  p.site_name = meta.site_name;
  p.image_url = meta.image_url;
  if (!p.site_name) {
    // The host: between "//" and the next '/', '?', '#' or ':' (no user info in a preview).
    const std::size_t start = url.find("//");
    if (start != std::string::npos) {
      std::string host = url.substr(start + 2, url.find_first_of("/?#", start + 2) - (start + 2));
      if (auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
      if (!host.empty() && host[0] != '[') host = host.substr(0, host.find(':'));
      if (!host.empty()) p.site_name = clean(store::sql::ascii_lower(host), kMaxSiteNameChars);
    }
  }
  return p;
}

}  // namespace parley::previews
