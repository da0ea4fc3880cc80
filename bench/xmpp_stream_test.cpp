// The RFC 7395 framing parser: stanzas split across WebSocket messages, several in one message,
// prefixes, escapes and the XML declaration some servers send.
#include <gtest/gtest.h>

#include "xmpp_stream.hpp"

namespace bench::xmpp {
namespace {

TEST(XmppStream, OneStanzaPerMessage) {
  StreamParser p;
  std::vector<Element> out;
  ASSERT_TRUE(p.feed(R"(<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="d" id="1" version="1.0"/>)", out));
  ASSERT_TRUE(p.feed(R"(<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms)"
                     R"( xmlns="urn:ietf:params:xml:ns:xmpp-sasl"><mechanism>ANONYMOUS</mechanism></mechanisms>)"
                     R"(</stream:features>)",
                     out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "open");
  EXPECT_EQ(out[0].attr("id"), "1");
  EXPECT_EQ(out[1].name, "features");
  ASSERT_NE(out[1].child("mechanisms"), nullptr);
  EXPECT_EQ(out[1].child("mechanisms")->child("mechanism")->text, "ANONYMOUS");
}

TEST(XmppStream, StanzaSplitAcrossMessages) {
  StreamParser p;
  std::vector<Element> out;
  ASSERT_TRUE(p.feed(R"(<message from="r@rooms.d/s0" type="groupch)", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed(R"(at"><body>7 123 x&amp;y</bo)", out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(p.feed("dy></message>", out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].attr("type"), "groupchat");
  EXPECT_EQ(out[0].child("body")->text, "7 123 x&y");
}

TEST(XmppStream, SeveralStanzasInOneMessageAndDeclaration) {
  StreamParser p;
  std::vector<Element> out;
  ASSERT_TRUE(p.feed(R"(<?xml version='1.0'?><iq id="a" type="result"/><presence from="x"><x><status code="110"/>)"
                     R"(</x></presence><message)",
                     out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].name, "iq");
  EXPECT_EQ(out[1].child("x")->child("status")->attr("code"), "110");
  ASSERT_TRUE(p.feed("/>", out));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].name, "message");
}

TEST(XmppStream, MalformedXmlIsReported) {
  StreamParser p;
  std::vector<Element> out;
  EXPECT_FALSE(p.feed("<a></b>", out));
  EXPECT_FALSE(p.error().empty());
}

TEST(XmppStream, Escape) { EXPECT_EQ(escape(R"(<a&"'>)"), "&lt;a&amp;&quot;&apos;&gt;"); }

}  // namespace
}  // namespace bench::xmpp
