#pragma once
// Thumbnails and placeholders of uploaded images (docs/files.md, "Images"), made with libvips.
// process_image() reads an image's header first and refuses one that is too big before any
// pixel is decoded; then it makes WebP thumbnails with the EXIF orientation applied and every
// metadata block (EXIF with GPS, XMP, IPTC, ICC after conversion to sRGB) left out, a BlurHash,
// and a rewrite of the original itself without its metadata: a PNG, a WebP and an upright JPEG
// (EXIF orientation 1 or none) keep their compressed data as it is, losslessly, with only their
// metadata segments or chunks left out (the ICC profile stays); a turned JPEG is decoded,
// turned, converted to sRGB and encoded again at quality 90. TIFF and HEIF/AVIF originals are
// left as they are (their metadata too).
//
// Threading: every function is thread-safe and blocks; run it on a files worker, never a
// network thread. One call uses one thread (libvips' own thread pool is set to one thread, so
// the number of workers bounds the CPU used). libvips is initialised once per process on first
// use; from then on it may load only JPEG, PNG, WebP, GIF, TIFF and HEIF/AVIF (its other
// loaders, SVG, PDF and ImageMagick among them, are blocked for the whole process).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace parley::files {

/// Refused before decoding (422, details.reason "image_too_large"): more pixels than
/// max_pixels, or a side longer than max_side.
struct ImageLimits {
  std::uint64_t max_pixels = 50'000'000;
  int max_side = 20'000;
};

/// A thumbnail written into the work dir as "<name>.webp".
struct Variant {
  std::string name;  // "64", "256" or "1024": its longest side at most (never upscaled)
  int width = 0;
  int height = 0;
  std::filesystem::path path;
  std::uint64_t size = 0;  // bytes
  std::string content_type = "image/webp";
};

struct ImageInfo {
  int width = 0;  // as shown, after the EXIF orientation
  int height = 0;
  std::string blurhash;             // 4x3 components, 28 characters
  bool rewritten_original = false;  // the original file was replaced by one without metadata (it had some)
  std::vector<Variant> variants;    // the ones made, smallest first
};

/// The thumbnail sizes (longest side). An image gets the variant of each size not above its
/// own longest side (after orientation): a 600x400 image gets "64" and "256", a 1x1 image none.
inline constexpr int kVariantSides[] = {64, 256, 1024};

/// The sniffed MIME types process_image() reads: image/jpeg, image/png, image/webp, image/gif,
/// image/tiff, and image/heic, image/heif, image/avif when libvips has its HEIF loader.
bool is_processable_image_type(std::string_view sniffed_type);

/// Reads the image at `original`, whose type libmagic sniffed as `sniffed_type`:
/// - std::nullopt for any type that is not one is_processable_image_type() accepts (SVG never);
/// - validation_failed with details reason "image_too_large" when its header is over `limits`
///   (nothing decoded), or "unreadable_image" when it is not an image of that type or cannot be
///   decoded (truncated or corrupt data);
/// - otherwise the ImageInfo, the thumbnails written as `work_dir`/<name>.webp (an existing
///   folder) and `original` replaced by a rewrite of it without metadata (see above) through a
///   temporary file in `work_dir`. A PNG or WebP whose container cannot be followed to its end
///   is "unreadable_image" too.
/// Of an animated GIF (or a multi-page TIFF) only the first frame is read. On an error nothing
/// is left in `work_dir` and `original` is unchanged. Paths must not end in ']' (libvips would
/// read a suffix "[...]" as load options): those are refused as an internal error.
Result<std::optional<ImageInfo>> process_image(const std::filesystem::path& original, std::string_view sniffed_type,
                                               const std::filesystem::path& work_dir, const ImageLimits& limits);

/// Initialises libvips as process_image() needs it (idempotent, thread-safe); an error when
/// libvips cannot start. Call it before using libvips directly (tests do, to make images).
Status init_images();

}  // namespace parley::files
