#pragma once
// RFC 6455 framing: parses frame headers (the masked frames clients send, or, for a client such
// as parley-bench, the unmasked frames servers send) and encodes unmasked headers. Pure functions, no I/O: the
// connection in ws_session.cpp drives them. Why Parley frames WebSocket itself (after Beast's handshake) is in
// docs/architecture.md ("WebSocket framing").
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace parley::net::ws {

namespace opcode {
constexpr std::uint8_t continuation = 0x0;
constexpr std::uint8_t text = 0x1;
constexpr std::uint8_t binary = 0x2;
constexpr std::uint8_t close = 0x8;
constexpr std::uint8_t ping = 0x9;
constexpr std::uint8_t pong = 0xA;
}  // namespace opcode

struct FrameHeader {
  bool fin = false;
  std::uint8_t opcode = 0;
  std::uint64_t length = 0;      // payload bytes
  std::uint8_t mask[4] = {};     // client frames are always masked; all zero for server frames
  std::size_t header_bytes = 0;  // bytes before the payload
};

enum class Parse {
  need_more,       // not enough bytes for the header yet
  ok,              // header parsed; the payload may still be incomplete
  protocol_error,  // 1002: reserved bits or opcode, wrong masking, bad control frame, bad length
  too_big,         // 1009: payload over the limit
};

/// Who sent the frame: clients must mask their frames, servers must not.
enum class Sender { client, server };

/// Parses the header at the start of `data`. `max_payload` bounds data frames (control frames
/// are bounded at 125 bytes by the RFC).
Parse parse_header(std::string_view data, std::size_t max_payload, FrameHeader& out, Sender from = Sender::client);

/// XORs `n` bytes at `p` with the mask, starting at payload offset `offset`.
void unmask(char* p, std::size_t n, const std::uint8_t mask[4], std::size_t offset = 0);

/// Encodes a final (FIN) unmasked frame header into `out` (at least 10 bytes); returns its size.
std::size_t encode_header(std::uint8_t opcode, std::uint64_t length, char* out);

/// One text message of a batch of event frames: frames [begin, end), newline-separated.
struct BatchMessage {
  std::size_t begin = 0, end = 0;
  char header[10];
  std::size_t header_len = 0;
};

/// Splits `count` frames (frame i is `size_at(i)` bytes) into text messages whose payload stays
/// within `max_payload` bytes, in order; a larger frame is a message of its own. `out` is
/// replaced, and each message's header is encoded.
template <class SizeAt>
void plan_batch(std::size_t count, SizeAt size_at, std::size_t max_payload, std::vector<BatchMessage>& out) {
  out.clear();
  std::size_t begin = 0, payload = 0;
  auto close = [&](std::size_t end) {
    BatchMessage m;
    m.begin = begin;
    m.end = end;
    m.header_len = encode_header(opcode::text, payload, m.header);
    out.push_back(m);
  };
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t size = size_at(i);
    if (i > begin && payload + 1 + size > max_payload) {
      close(i);
      begin = i;
      payload = size;
    } else {
      payload += (i > begin ? 1 : 0) + size;
    }
  }
  if (count > 0) close(count);
}

/// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points over U+10FFFF).
bool valid_utf8(std::string_view s);

/// True when a close code received from a peer is one a peer may send (RFC 6455 7.4).
bool valid_close_code(std::uint16_t code);

}  // namespace parley::net::ws
