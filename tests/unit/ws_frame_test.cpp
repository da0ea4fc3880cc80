// RFC 6455 framing (net/ws_frame.hpp): header parsing of client frames, server frame headers,
// UTF-8 validation and close codes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/ws_frame.hpp"

namespace parley::net::ws {
namespace {

const std::uint8_t kMask[4] = {0x11, 0x22, 0x33, 0x44};

// A masked client frame.
std::string client_frame(std::uint8_t op, std::string payload, bool fin = true, std::uint8_t extra_b0 = 0) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | extra_b0 | op));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((std::uint64_t{payload.size()} >> (8 * i)) & 0xFF));
  }
  out.append(reinterpret_cast<const char*>(kMask), 4);
  unmask(payload.data(), payload.size(), kMask);  // XOR is its own inverse
  return out + payload;
}

TEST(WsFrame, ParsesAMaskedTextFrameAndUnmasksItsPayload) {
  auto bytes = client_frame(opcode::text, "hello");
  FrameHeader h;
  ASSERT_EQ(parse_header(bytes, 1024, h), Parse::ok);
  EXPECT_TRUE(h.fin);
  EXPECT_EQ(h.opcode, opcode::text);
  EXPECT_EQ(h.length, 5u);
  EXPECT_EQ(h.header_bytes, 6u);
  std::string payload = bytes.substr(h.header_bytes);
  unmask(payload.data(), payload.size(), h.mask);
  EXPECT_EQ(payload, "hello");
}

TEST(WsFrame, ParsesSixteenAndSixtyFourBitLengths) {
  FrameHeader h;
  auto medium = client_frame(opcode::text, std::string(300, 'a'));
  ASSERT_EQ(parse_header(medium, 1 << 20, h), Parse::ok);
  EXPECT_EQ(h.length, 300u);
  EXPECT_EQ(h.header_bytes, 8u);
  auto large = client_frame(opcode::binary, std::string(70000, 'b'));
  ASSERT_EQ(parse_header(large, 1 << 20, h), Parse::ok);
  EXPECT_EQ(h.length, 70000u);
  EXPECT_EQ(h.header_bytes, 14u);
}

TEST(WsFrame, AnIncompleteHeaderNeedsMoreBytesAtEveryCut) {
  auto bytes = client_frame(opcode::text, std::string(300, 'a'));
  FrameHeader h;
  for (std::size_t cut = 0; cut < 8; ++cut) {
    EXPECT_EQ(parse_header(std::string_view(bytes).substr(0, cut), 1024, h), Parse::need_more) << cut;
  }
  EXPECT_EQ(parse_header(std::string_view(bytes).substr(0, 8), 1024, h), Parse::ok);
}

TEST(WsFrame, RejectsWhatTheRfcForbids) {
  FrameHeader h;
  auto unmasked = client_frame(opcode::text, "x");
  unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
  EXPECT_EQ(parse_header(unmasked, 1024, h), Parse::protocol_error) << "unmasked client frame";
  EXPECT_EQ(parse_header(client_frame(opcode::text, "x", true, 0x40), 1024, h), Parse::protocol_error) << "RSV1";
  EXPECT_EQ(parse_header(client_frame(0x3, "x"), 1024, h), Parse::protocol_error) << "reserved opcode";
  EXPECT_EQ(parse_header(client_frame(0xB, "x"), 1024, h), Parse::protocol_error) << "reserved control opcode";
  EXPECT_EQ(parse_header(client_frame(opcode::ping, "x", false), 1024, h), Parse::protocol_error)
      << "fragmented control frame";
  EXPECT_EQ(parse_header(client_frame(opcode::ping, std::string(126, 'p')), 1024, h), Parse::protocol_error)
      << "control frame over 125 bytes";
  // A length in the 16-bit form that fits in 7 bits is not the minimal encoding.
  std::string overlong = {static_cast<char>(0x81), static_cast<char>(0x80 | 126), 0, 5, 1, 2, 3, 4};
  EXPECT_EQ(parse_header(overlong, 1024, h), Parse::protocol_error);
  // The most significant bit of a 64-bit length must be 0.
  std::string huge = {static_cast<char>(0x81), static_cast<char>(0xFF), static_cast<char>(0x80), 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(parse_header(huge, 1024, h), Parse::protocol_error);
}

TEST(WsFrame, ADataFrameOverTheLimitIsTooBigBeforeItsPayloadArrives) {
  FrameHeader h;
  auto bytes = client_frame(opcode::text, std::string(2000, 'a'));
  EXPECT_EQ(parse_header(std::string_view(bytes).substr(0, 8), 1000, h), Parse::too_big);
  EXPECT_EQ(parse_header(bytes, 2000, h), Parse::ok);
}

TEST(WsFrame, ServerHeadersAreFinalUnmaskedAndMinimal) {
  char out[10];
  ASSERT_EQ(encode_header(opcode::text, 5, out), 2u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x81);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 5);
  ASSERT_EQ(encode_header(opcode::text, 300, out), 4u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 126);
  EXPECT_EQ((static_cast<std::uint8_t>(out[2]) << 8) | static_cast<std::uint8_t>(out[3]), 300);
  ASSERT_EQ(encode_header(opcode::close, 70000, out), 10u);
  EXPECT_EQ(static_cast<std::uint8_t>(out[0]), 0x88);
  EXPECT_EQ(static_cast<std::uint8_t>(out[1]), 127);
  std::uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(out[2 + i]);
  EXPECT_EQ(len, 70000u);
}

TEST(WsFrame, AClientParsesTheServersUnmaskedFramesAndRejectsMaskedOnes) {
  char hdr[10];
  std::string frame(hdr, encode_header(opcode::text, 300, hdr));
  frame += std::string(300, 'x');
  FrameHeader h;
  ASSERT_EQ(parse_header(frame, 1024, h, Sender::server), Parse::ok);
  EXPECT_EQ(h.opcode, opcode::text);
  EXPECT_EQ(h.length, 300u);
  EXPECT_EQ(h.header_bytes, 4u);
  EXPECT_EQ(h.mask[0] | h.mask[1] | h.mask[2] | h.mask[3], 0);
  EXPECT_EQ(parse_header(std::string_view(frame).substr(0, 3), 1024, h, Sender::server), Parse::need_more);
  // The other way round, each side refuses the other's masking.
  EXPECT_EQ(parse_header(frame, 1024, h), Parse::protocol_error);
  EXPECT_EQ(parse_header(client_frame(opcode::text, "hi"), 1024, h, Sender::server), Parse::protocol_error);
}

TEST(WsFrame, Utf8ValidationAcceptsUnicodeAndRejectsMalformedSequences) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii {\"a\":1}"));
  EXPECT_TRUE(valid_utf8("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\x80"));                                       // lone continuation
  EXPECT_FALSE(valid_utf8("\xC3"));                                       // truncated
  EXPECT_FALSE(valid_utf8("\xE2\x82"));                                   // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));                                   // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));                               // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));                               // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));                           // U+110000
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("ok\xC3("));  // bad continuation byte
}

TEST(WsFrame, CloseCodesFollowTheRfc) {
  for (std::uint16_t ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4001, 4999}) {
    EXPECT_TRUE(valid_close_code(ok)) << ok;
  }
  for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1012, 1015, 2999, 5000}) {
    EXPECT_FALSE(valid_close_code(bad)) << bad;
  }
}

// Frames of these sizes, planned into messages of at most `max` bytes: each message as
// (first frame, end, payload bytes the header announces).
std::vector<std::vector<std::size_t>> plan_of(const std::vector<std::size_t>& sizes, std::size_t max) {
  std::vector<BatchMessage> plan;
  plan_batch(
      sizes.size(), [&](std::size_t i) { return sizes[i]; }, max, plan);
  std::vector<std::vector<std::size_t>> out;
  for (const auto& m : plan) {
    FrameHeader h;
    EXPECT_EQ(parse_header(std::string_view(m.header, m.header_len), 1 << 30, h, Sender::server), Parse::ok);
    EXPECT_EQ(h.opcode, opcode::text);
    EXPECT_TRUE(h.fin);
    out.push_back({m.begin, m.end, static_cast<std::size_t>(h.length)});
  }
  return out;
}

TEST(WsFrame, ABatchOfEventsIsSplitIntoMessagesOfBoundedSize) {
  using Plan = std::vector<std::vector<std::size_t>>;
  // Everything fits: one message, frames joined by newlines (3 * 10 + 2).
  EXPECT_EQ(plan_of({10, 10, 10}, 100), (Plan{{0, 3, 32}}));
  // Exactly at the bound stays in one message; one byte more starts the next.
  EXPECT_EQ(plan_of({49, 50}, 100), (Plan{{0, 2, 100}}));
  EXPECT_EQ(plan_of({50, 50}, 100), (Plan{{0, 1, 50}, {1, 2, 50}}));
  // A frame larger than the bound is a message of its own, between the others.
  EXPECT_EQ(plan_of({10, 300, 10, 10}, 100), (Plan{{0, 1, 10}, {1, 2, 300}, {2, 4, 21}}));
  EXPECT_TRUE(plan_of({}, 100).empty());
  // A long backlog: every message within the bound, every frame once and in order.
  std::vector<std::size_t> sizes(2000);
  for (std::size_t i = 0; i < sizes.size(); ++i) sizes[i] = 200 + (i * 37) % 900;
  auto plan = plan_of(sizes, 64 << 10);
  ASSERT_GT(plan.size(), 1u);
  std::size_t next = 0;
  for (const auto& m : plan) {
    EXPECT_EQ(m[0], next);
    EXPECT_LE(m[2], std::size_t{64 << 10});
    std::size_t payload = m[1] - m[0] - 1;
    for (std::size_t i = m[0]; i < m[1]; ++i) payload += sizes[i];
    EXPECT_EQ(m[2], payload);
    next = m[1];
  }
  EXPECT_EQ(next, sizes.size());
}

}  // namespace
}  // namespace parley::net::ws
