#include "xmpp_stream.hpp"

#include <expat.h>

namespace bench::xmpp {

std::string_view Element::attr(std::string_view key) const {
  for (const auto& [k, v] : attrs)
    if (k == key) return v;
  return {};
}

const Element* Element::child(std::string_view local_name) const {
  for (const auto& c : children)
    if (c.name == local_name) return &c;
  return nullptr;
}

namespace {

std::string local_name(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return std::string(colon == std::string_view::npos ? n : n.substr(colon + 1));
}

}  // namespace

// The elements of a stanza under construction; a virtual <w> root wraps the whole stream so
// that the independent top-level elements of RFC 7395 form one well-formed document.
struct StreamParser::Impl {
  XML_Parser parser = XML_ParserCreate("UTF-8");
  std::vector<Element> open;  // the stanza being built, outermost first
  std::vector<Element>* out = nullptr;
  int depth = 0;  // 0: inside the virtual root

  static void on_start(void* self, const XML_Char* name, const XML_Char** atts) {
    auto& impl = *static_cast<Impl*>(self);
    if (impl.depth++ < 0) return;
    Element e;
    e.name = local_name(name);
    for (int i = 0; atts[i]; i += 2) e.attrs.emplace_back(atts[i], atts[i + 1]);
    impl.open.push_back(std::move(e));
  }
  static void on_end(void* self, const XML_Char*) {
    auto& impl = *static_cast<Impl*>(self);
    if (--impl.depth < 0 || impl.open.empty()) return;
    Element e = std::move(impl.open.back());
    impl.open.pop_back();
    if (impl.open.empty())
      impl.out->push_back(std::move(e));
    else
      impl.open.back().children.push_back(std::move(e));
  }
  static void on_text(void* self, const XML_Char* s, int len) {
    auto& impl = *static_cast<Impl*>(self);
    if (!impl.open.empty()) impl.open.back().text.append(s, static_cast<std::size_t>(len));
  }
};

StreamParser::StreamParser() : impl_(std::make_unique<Impl>()) {
  XML_SetUserData(impl_->parser, impl_.get());
  XML_SetElementHandler(impl_->parser, &Impl::on_start, &Impl::on_end);
  XML_SetCharacterDataHandler(impl_->parser, &Impl::on_text);
  impl_->depth = -1;  // the virtual root's start brings it to 0, where stanzas start
  static constexpr std::string_view root = "<w>";
  XML_Parse(impl_->parser, root.data(), static_cast<int>(root.size()), XML_FALSE);
}

StreamParser::~StreamParser() { XML_ParserFree(impl_->parser); }

bool StreamParser::feed(std::string_view data, std::vector<Element>& out) {
  if (!error_.empty()) return false;
  // An XML declaration may open a message; inside the virtual root it would be an error.
  for (;;) {
    auto start = data.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || data.substr(start, 5) != "<?xml") break;
    auto end = data.find("?>", start);
    if (end == std::string_view::npos) break;
    data = data.substr(end + 2);
  }
  impl_->out = &out;
  if (XML_Parse(impl_->parser, data.data(), static_cast<int>(data.size()), XML_FALSE) == XML_STATUS_ERROR) {
    error_ = XML_ErrorString(XML_GetErrorCode(impl_->parser));
    return false;
  }
  return true;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace bench::xmpp
