#include "files/metadata_strip.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace parley::files {

namespace {

std::uint32_t le32(std::string_view b, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data() + at);
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

void put_le32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

unsigned char byte(std::string_view b, std::size_t at) { return static_cast<unsigned char>(b[at]); }

// A marker segment worth keeping: not APPn or COM, but for the ICC profile and Adobe's APP14.
bool keep_segment(unsigned char marker, std::string_view payload) {
  if (marker == 0xE2) return payload.starts_with(std::string_view("ICC_PROFILE\0", 12));
  if (marker == 0xEE) return payload.starts_with("Adobe");
  return !(marker >= 0xE0 && marker <= 0xEF) && marker != 0xFE;
}

// The end of the entropy-coded data that starts at `at`: the position of the 0xFF of the next
// marker that is neither a stuffed 0xFF00 nor a restart marker RST0..7.
std::optional<std::size_t> end_of_scan(std::string_view in, std::size_t at) {
  for (; at + 1 < in.size(); ++at) {
    if (byte(in, at) != 0xFF) continue;
    const unsigned char next = byte(in, at + 1);
    if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
      ++at;
      continue;
    }
    return at;
  }
  return std::nullopt;
}

std::uint32_t be32(std::string_view b, std::size_t at) {
  return (static_cast<std::uint32_t>(byte(b, at)) << 24) | (byte(b, at + 1) << 16) | (byte(b, at + 2) << 8) |
         byte(b, at + 3);
}

constexpr std::array<std::string_view, 15> kPngKept = {"IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB",
                                                       "iCCP", "sBIT", "bKGD", "pHYs", "acTL", "fcTL", "fdAT"};

}  // namespace

std::optional<std::string> jpeg_without_metadata(std::string_view in) {
  if (in.size() < 4 || byte(in, 0) != 0xFF || byte(in, 1) != 0xD8) return std::nullopt;
  std::string out("\xFF\xD8", 2);
  out.reserve(in.size());
  std::size_t at = 2;
  while (at < in.size()) {
    if (byte(in, at) != 0xFF) return std::nullopt;
    while (at < in.size() && byte(in, at) == 0xFF) ++at;  // fill bytes before a marker
    if (at >= in.size()) return std::nullopt;
    const unsigned char marker = byte(in, at++);
    if (marker == 0xD9) {
      out.append("\xFF\xD9", 2);
      return out;
    }
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // stand-alone markers
      out += '\xFF';
      out += static_cast<char>(marker);
      continue;
    }
    if (in.size() - at < 2) return std::nullopt;
    const std::size_t length = (byte(in, at) << 8) | byte(in, at + 1);
    if (length < 2 || length > in.size() - at) return std::nullopt;
    const std::string_view segment = in.substr(at, length);
    at += length;
    if (keep_segment(marker, segment.substr(2))) {
      out += '\xFF';
      out += static_cast<char>(marker);
      out.append(segment);
    }
    if (marker == 0xDA) {  // start of scan: the entropy-coded data follows, up to the next marker
      const std::optional<std::size_t> end = end_of_scan(in, at);
      if (!end) return std::nullopt;
      out.append(in.substr(at, *end - at));
      at = *end;
    }
  }
  return std::nullopt;
}

std::optional<std::string> png_without_metadata(std::string_view in) {
  constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);
  if (!in.starts_with(kSignature)) return std::nullopt;
  std::string out(kSignature);
  out.reserve(in.size());
  std::size_t at = kSignature.size();
  while (in.size() - at >= 12) {
    const std::uint64_t span = 12 + static_cast<std::uint64_t>(be32(in, at));  // length, type, data, CRC
    if (span > in.size() - at) return std::nullopt;
    const std::string_view type = in.substr(at + 4, 4);
    if (std::find(kPngKept.begin(), kPngKept.end(), type) != kPngKept.end()) out.append(in.substr(at, span));
    at += span;
    if (type == "IEND") return out;
  }
  return std::nullopt;
}

std::optional<std::string> webp_without_metadata(std::string_view in, bool keep_icc) {
  if (in.size() < 12 || in.substr(0, 4) != "RIFF" || in.substr(8, 4) != "WEBP") return std::nullopt;
  const std::uint64_t riff_end = 8 + static_cast<std::uint64_t>(le32(in, 4));
  if (riff_end < 12 || riff_end > in.size()) return std::nullopt;
  in = in.substr(0, riff_end);
  std::string out(in.substr(0, 12));
  std::size_t at = 12;
  while (at < in.size()) {
    if (in.size() - at < 8) return std::nullopt;
    const std::uint64_t size = le32(in, at + 4);
    const std::uint64_t span = 8 + size + (size & 1);
    if (span > in.size() - at) return std::nullopt;
    const std::string_view fourcc = in.substr(at, 4);
    if (fourcc != "EXIF" && fourcc != "XMP " && (keep_icc || fourcc != "ICCP")) {
      const std::size_t chunk_at = out.size();
      out.append(in.substr(at, span));
      const unsigned char kMetadataFlags = (keep_icc ? 0 : 0x20) | 0x08 | 0x04;  // ICC, EXIF, XMP
      if (fourcc == "VP8X" && size > 0) {
        out[chunk_at + 8] = static_cast<char>(static_cast<unsigned char>(out[chunk_at + 8]) & ~kMetadataFlags);
      }
    }
    at += span;
  }
  put_le32(out, 4, static_cast<std::uint32_t>(out.size() - 8));
  return out;
}

}  // namespace parley::files
