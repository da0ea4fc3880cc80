#pragma once
// Metadata removed from image files at the container level, without decoding a pixel: a JPEG
// without its APPn/COM segments, a PNG without its text, EXIF and time chunks, a WebP without
// its EXIF and XMP chunks, each without what follows its end. Pure functions on bytes;
// thread-safe.
#include <optional>
#include <string>
#include <string_view>

namespace parley::files {

/// The JPEG `in` with the same compressed image data (losslessly: every pixel decodes the same)
/// and no metadata: APP0 (JFIF, and its thumbnails), APP1 (EXIF with GPS, XMP), APP13 (IPTC),
/// the other APPn and COM segments, and all bytes after EOI (appended videos, trailers) are
/// left out. Kept: the segments decoding needs, an APP2 ICC profile (the colours) and an APP14
/// Adobe segment (its colour transform). std::nullopt when `in` is not a JPEG this reads to
/// its EOI marker.
std::optional<std::string> jpeg_without_metadata(std::string_view in);

/// The PNG `in` with only the chunks that say how to show it: IHDR, PLTE, IDAT, IEND, tRNS,
/// gAMA, cHRM, sRGB, iCCP, sBIT, bKGD, pHYs and APNG's acTL, fcTL, fdAT. Left out: tEXt, zTXt,
/// iTXt, eXIf, tIME, every other chunk and all bytes after IEND. std::nullopt when `in` is not
/// a PNG this reads to its IEND chunk (chunk CRCs are not checked: the decoder does).
std::optional<std::string> png_without_metadata(std::string_view in);

/// The WebP `in` without its EXIF and XMP chunks (and ICCP unless `keep_icc`), their flags
/// cleared in VP8X, and without bytes past the RIFF size. std::nullopt when `in` is not a
/// well-formed RIFF WebP.
std::optional<std::string> webp_without_metadata(std::string_view in, bool keep_icc = false);

}  // namespace parley::files
