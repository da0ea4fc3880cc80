#include "net/ws_frame.hpp"

#include <cstring>

namespace parley::net::ws {

Parse parse_header(std::string_view data, std::size_t max_payload, FrameHeader& out, Sender from) {
  if (data.size() < 2) return Parse::need_more;
  auto b0 = static_cast<std::uint8_t>(data[0]);
  auto b1 = static_cast<std::uint8_t>(data[1]);
  if (b0 & 0x70) return Parse::protocol_error;  // RSV1-3: no extension was negotiated
  out.fin = (b0 & 0x80) != 0;
  out.opcode = b0 & 0x0F;
  switch (out.opcode) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong: break;
    default: return Parse::protocol_error;
  }
  const bool masked = (b1 & 0x80) != 0;
  if (masked != (from == Sender::client)) return Parse::protocol_error;  // clients mask, servers don't
  const bool control = (out.opcode & 0x8) != 0;
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (data.size() < pos + 2) return Parse::need_more;
    len = (std::uint64_t{static_cast<std::uint8_t>(data[2])} << 8) | static_cast<std::uint8_t>(data[3]);
    pos += 2;
    if (len < 126) return Parse::protocol_error;  // not the minimal encoding
  } else if (len == 127) {
    if (data.size() < pos + 8) return Parse::need_more;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<std::uint8_t>(data[2 + i]);
    pos += 8;
    if (len >> 63) return Parse::protocol_error;
    if (len <= 0xFFFF) return Parse::protocol_error;
  }
  if (control && (!out.fin || len > 125)) return Parse::protocol_error;
  if (!control && len > max_payload) return Parse::too_big;
  if (masked) {
    if (data.size() < pos + 4) return Parse::need_more;
    std::memcpy(out.mask, data.data() + pos, 4);
    pos += 4;
  } else {
    std::memset(out.mask, 0, 4);
  }
  out.length = len;
  out.header_bytes = pos;
  return Parse::ok;
}

void unmask(char* p, std::size_t n, const std::uint8_t mask[4], std::size_t offset) {
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask[(offset + i) & 3]);
}

std::size_t encode_header(std::uint8_t op, std::uint64_t length, char* out) {
  out[0] = static_cast<char>(0x80 | op);
  if (length < 126) {
    out[1] = static_cast<char>(length);
    return 2;
  }
  if (length <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<char>(length >> 8);
    out[3] = static_cast<char>(length & 0xFF);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<char>((length >> (8 * (7 - i))) & 0xFF);
  return 10;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // a continuation byte or 0xF8..0xFF where a sequence must start
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr std::uint32_t min_for[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for[extra]) return false;           // overlong
    if (cp > 0x10FFFF) return false;                 // beyond Unicode
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // UTF-16 surrogate
    p += extra + 1;
  }
  return true;
}

bool valid_close_code(std::uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1011) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace parley::net::ws
