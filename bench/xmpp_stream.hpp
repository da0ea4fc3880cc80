// Incremental parser for XMPP over WebSocket (RFC 7395) framing: feed it the payload of each
// WebSocket text message as it arrives and it returns every complete top-level element
// (<open/>, <features/>, <iq/>, <message/>, ...). A stanza may be split across messages or
// several may share one; the parser does not care where the message boundaries fall. Names are
// local names (a "stream:" prefix is dropped); namespaces are kept as plain xmlns attributes.
//
// Threading: one parser per connection, used from one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench::xmpp {

struct Element {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::vector<Element> children;
  std::string text;

  // The attribute's value, or empty.
  std::string_view attr(std::string_view key) const;
  // The first child with this local name, or null.
  const Element* child(std::string_view local_name) const;
};

class StreamParser {
 public:
  StreamParser();
  ~StreamParser();
  StreamParser(const StreamParser&) = delete;
  StreamParser& operator=(const StreamParser&) = delete;

  // Parses more bytes; appends completed top-level elements to `out`. Returns false on malformed
  // XML (error() says why); the parser is unusable afterwards.
  bool feed(std::string_view data, std::vector<Element>& out);
  const std::string& error() const { return error_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

// Escapes text for use in character data and attribute values.
std::string escape(std::string_view text);

}  // namespace bench::xmpp
