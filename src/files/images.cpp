#include "files/images.hpp"

#include <spdlog/spdlog.h>
#include <vips/vips.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <span>
#include <system_error>

#include "files/blurhash.hpp"
#include "files/metadata_strip.hpp"

namespace parley::files {

namespace {

constexpr int kWebpQuality = 80;
constexpr int kWebpEffort = 2;  // 0 fastest .. 6 smallest; 2 keeps a 1024 px thumbnail near 20 ms
constexpr int kJpegQuality = 90;
constexpr int kBlurhashSide = 32;

// The loaders that may run, by libvips type name (children included); all others are blocked.
constexpr std::array kAllowedLoaders = {"VipsForeignLoadJpeg",  "VipsForeignLoadPng",  "VipsForeignLoadWebp",
                                        "VipsForeignLoadNsgif", "VipsForeignLoadTiff", "VipsForeignLoadHeif"};

struct ImageUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, ImageUnref>;

// The error text libvips gathered (process-wide: with several workers it may hold another
// thread's message too), cleared.
std::string take_vips_error() {
  char* text = vips_error_buffer_copy();
  std::string out = text ? text : "";
  g_free(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// Error messages reach the client (api/errors): they name the step, never a path or libvips'
// text, which go to the log.
Error unreadable(std::string_view what) {
  spdlog::debug("image unreadable ({}): {}", what, take_vips_error());
  Error e{Errc::validation_failed, "file is not a readable image (" + std::string(what) + ")"};
  return e.with("reason", "unreadable_image");
}

Error failure(std::string_view what, std::string_view detail) {
  spdlog::warn("image processing failed ({}): {}", what, detail);
  return {Errc::internal, "image processing failed (" + std::string(what) + ")"};
}

Error vips_failure(std::string_view what) { return failure(what, take_vips_error()); }

// libvips' warnings (a JPEG with minor damage, a truncated file) go to the log at debug level:
// the error that matters reaches the caller as a Result.
void log_vips_message(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  spdlog::debug("{}: {}{}", domain ? domain : "libvips", (level & G_LOG_LEVEL_WARNING) ? "warning: " : "",
                message ? message : "");
}

struct InitState {
  std::once_flag once;
  std::string error;  // empty when libvips started
};
InitState& init_state() {
  static InitState state;
  return state;
}

// The loader (its nickname, as libvips records it in "vips-loader") a sniffed type must be
// read with; empty for types not processed.
std::string_view loader_for(std::string_view type) {
  if (type == "image/jpeg") return "jpegload";
  if (type == "image/png") return "pngload";
  if (type == "image/webp") return "webpload";
  if (type == "image/gif") return "gifload";
  if (type == "image/tiff") return "tiffload";
  if (type == "image/heic" || type == "image/heif" || type == "image/avif") {
    static const bool heif = init_images().ok() && vips_type_find("VipsOperation", "heifload") != 0;
    return heif ? "heifload" : "";
  }
  return "";
}

// `image` in sRGB: an embedded ICC profile (or CMYK) is converted, so that dropping the
// metadata afterwards changes no colour. A profile that cannot be used (damaged) is ignored:
// the pixels are taken as they are (CMYK through libvips' default CMYK profile).
Result<ImagePtr> to_srgb(ImagePtr image) {
  const bool cmyk = vips_image_get_interpretation(image.get()) == VIPS_INTERPRETATION_CMYK;
  if (vips_image_get_typeof(image.get(), VIPS_META_ICC_NAME) == 0 && !cmyk) return image;
  const char* fallback = cmyk ? "cmyk" : "srgb";
  VipsImage* out = nullptr;
  if (vips_icc_transform(image.get(), &out, "srgb", "embedded", TRUE, "input_profile", fallback, nullptr) == 0) {
    image.reset(out);
    return image;
  }
  spdlog::debug("image: embedded ICC profile not used: {}", take_vips_error());
  if (!cmyk) return image;
  if (vips_icc_transform(image.get(), &out, "srgb", "embedded", FALSE, "input_profile", fallback, nullptr) != 0) {
    return unreadable("colour conversion");
  }
  image.reset(out);
  return image;
}

// A copy of `image` without any metadata field: EXIF (and the fields libvips parsed from it,
// GPS among them), XMP, IPTC, ICC, comments, orientation. libvips rebuilds EXIF from these
// fields when it saves, and 8.14's webpsave does so even with "strip" set: without them no
// GPS position can come back.
Result<ImagePtr> without_metadata(VipsImage* image) {
  VipsImage* out = nullptr;
  if (vips_copy(image, &out, nullptr) != 0) return vips_failure("copy");
  ImagePtr copy(out);
  gchar** fields = vips_image_get_fields(copy.get());
  for (gchar** f = fields; *f != nullptr; ++f) vips_image_remove(copy.get(), *f);  // basic fields stay
  g_strfreev(fields);
  return copy;
}

// A thumbnail of the in-memory `base` whose longest side is at most `side` (never larger).
Result<ImagePtr> shrink(VipsImage* base, int side) {
  VipsImage* out = nullptr;
  if (vips_thumbnail_image(base, &out, side, "height", side, "size", VIPS_SIZE_DOWN, "no_rotate", TRUE, nullptr) != 0) {
    return vips_failure("thumbnail");
  }
  return ImagePtr(out);
}

Status write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return failure("write", path.string());
  return ok_status();
}

Status replace(const std::filesystem::path& tmp, const std::filesystem::path& original) {
  std::error_code ec;
  std::filesystem::rename(tmp, original, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return failure("replace original", original.string() + ": " + ec.message());
  }
  return ok_status();
}

Result<Variant> write_variant(VipsImage* thumbnail, const std::string& name, const std::filesystem::path& work_dir) {
  PARLEY_ASSIGN_OR_RETURN(ImagePtr bare, without_metadata(thumbnail));
  VipsImage* image = bare.get();
  Variant v;
  v.name = name;
  v.path = work_dir / (name + ".webp");
  void* buf = nullptr;
  std::size_t len = 0;
  if (vips_webpsave_buffer(image, &buf, &len, "Q", kWebpQuality, "effort", kWebpEffort, "strip", TRUE, nullptr) != 0) {
    return vips_failure("webpsave");
  }
  // libvips 8.14's webpsave writes a fresh EXIF block (resolution, orientation) even with
  // "strip" set: the container is cleaned after it.
  std::optional<std::string> bytes = webp_without_metadata(std::string_view(static_cast<const char*>(buf), len));
  g_free(buf);
  if (!bytes) return failure("webpsave", "no RIFF WebP written");
  PARLEY_TRY(write_file(v.path, *bytes));
  v.width = vips_image_get_width(image);
  v.height = vips_image_get_height(image);
  v.size = bytes->size();
  return v;
}

// The BlurHash of `base`, read from a kBlurhashSide thumbnail flattened onto white.
Result<std::string> blurhash_of(VipsImage* base) {
  PARLEY_ASSIGN_OR_RETURN(ImagePtr small, shrink(base, kBlurhashSide));
  VipsImage* out = nullptr;
  if (vips_colourspace(small.get(), &out, VIPS_INTERPRETATION_sRGB, nullptr) != 0) return vips_failure("colourspace");
  small.reset(out);
  if (vips_image_hasalpha(small.get())) {
    VipsArrayDouble* white = vips_array_double_newv(3, 255.0, 255.0, 255.0);
    const int rc = vips_flatten(small.get(), &out, "background", white, nullptr);
    vips_area_unref(VIPS_AREA(white));
    if (rc != 0) return vips_failure("flatten");
    small.reset(out);
  }
  if (vips_extract_band(small.get(), &out, 0, "n", 3, nullptr) != 0) return vips_failure("extract_band");
  small.reset(out);
  if (vips_cast_uchar(small.get(), &out, nullptr) != 0) return vips_failure("cast");
  small.reset(out);
  std::size_t bytes = 0;
  void* pixels = vips_image_write_to_memory(small.get(), &bytes);
  if (pixels == nullptr) return vips_failure("write_to_memory");
  std::string hash = blurhash_encode(std::span(static_cast<const std::uint8_t*>(pixels), bytes),
                                     vips_image_get_width(small.get()), vips_image_get_height(small.get()));
  g_free(pixels);
  return hash;
}

// The whole JPEG at `original` decoded into memory, orientation applied, in sRGB: what both
// the rewrite and the thumbnails are made from, so the file is decoded once (its Huffman
// decoding costs as much at a reduced scale as at full size). 3 bytes a pixel while it lives.
Result<ImagePtr> decode_jpeg(const std::filesystem::path& original) {
  VipsImage* out = vips_image_new_from_file(original.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                            VIPS_FAIL_ON_ERROR, nullptr);
  if (out == nullptr) return unreadable("jpeg");
  ImagePtr image(out);
  const bool turned = vips_image_get_orientation(image.get()) > 1;
  out = vips_image_copy_memory(image.get());
  if (out == nullptr) return unreadable("decode");
  image.reset(out);
  if (vips_autorot(image.get(), &out, nullptr) != 0) return unreadable("autorotate");
  image.reset(out);
  VipsImage* before = image.get();
  PARLEY_ASSIGN_OR_RETURN(image, to_srgb(std::move(image)));
  if (turned || image.get() != before) {
    out = vips_image_copy_memory(image.get());
    if (out == nullptr) return unreadable("decode");
    image.reset(out);
  }
  return image;
}

// The original without its metadata, at the container level (no decoding, no generation
// loss): what jpeg/png/webp_without_metadata keep; the original itself for formats that have
// no such function here (TIFF, HEIF). std::nullopt when the structure is one those do not
// follow.
std::optional<std::string> stripped_original(std::string_view type, std::string_view bytes) {
  if (type == "image/jpeg") return jpeg_without_metadata(bytes);
  if (type == "image/png") return png_without_metadata(bytes);
  if (type == "image/webp") return webp_without_metadata(bytes, /*keep_icc=*/true);
  return std::string(bytes);
}

// Replaces `original` by stripped_original() of it when that differs. True when replaced;
// std::nullopt when the container could not be followed (the caller re-encodes a JPEG).
Result<std::optional<bool>> strip_original(const std::filesystem::path& original, std::string_view type,
                                           const std::filesystem::path& work_dir) {
  std::ifstream in(original, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  if (!in.good() && !in.eof()) return failure("read original", original.string());
  const std::optional<std::string> stripped = stripped_original(type, bytes);
  if (!stripped) return std::optional<bool>{};
  if (*stripped == bytes) return std::optional<bool>(false);
  const std::filesystem::path tmp = work_dir / "original.tmp";
  if (Status s = write_file(tmp, *stripped); !s) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return std::move(s).error();
  }
  PARLEY_TRY(replace(tmp, original));
  return std::optional<bool>(true);
}

// Replaces `original` by `decoded` as a JPEG of quality 90 (chroma subsampled, as cameras
// write) without metadata, through a temporary file in `work_dir` renamed over it.
Status rewrite_jpeg(VipsImage* decoded, const std::filesystem::path& original, const std::filesystem::path& work_dir) {
  PARLEY_ASSIGN_OR_RETURN(ImagePtr image, without_metadata(decoded));
  const std::filesystem::path tmp = work_dir / "original.tmp.jpg";
  if (vips_jpegsave(image.get(), tmp.c_str(), "Q", kJpegQuality, "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON, "strip",
                    TRUE, nullptr) != 0) {
    Error e = vips_failure("jpegsave");
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return e;
  }
  return replace(tmp, original);
}

// The largest thumbnail of an upright JPEG of longest side `longest`: decoded at 1/2, 1/4 or
// 1/8 scale (libjpeg's DCT scaling) as far as that stays at least `side`, then resized. Used
// because libvips' thumbnail leaves shrink-on-load out below a factor of 4.
Result<ImagePtr> decode_jpeg_thumbnail(const std::filesystem::path& original, int longest, int side) {
  int shrink_on_load = 1;
  while (shrink_on_load < 8 && longest / (shrink_on_load * 2) >= side) shrink_on_load *= 2;
  VipsImage* out = vips_image_new_from_file(original.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "shrink",
                                            shrink_on_load, "fail_on", VIPS_FAIL_ON_ERROR, nullptr);
  if (out == nullptr) return unreadable("jpeg");
  PARLEY_ASSIGN_OR_RETURN(ImagePtr image, to_srgb(ImagePtr(out)));
  PARLEY_ASSIGN_OR_RETURN(image, shrink(image.get(), side));
  out = vips_image_copy_memory(image.get());
  if (out == nullptr) return unreadable("decode");
  return ImagePtr(out);
}

// The largest thumbnail of a file that is not rewritten, decoded with shrink-on-load where the
// format has it, in sRGB, in memory.
Result<ImagePtr> decode_thumbnail(const std::filesystem::path& original, int side) {
  VipsImage* out = nullptr;
  if (vips_thumbnail(original.c_str(), &out, side, "height", side, "size", VIPS_SIZE_DOWN, "fail_on",
                     VIPS_FAIL_ON_ERROR, nullptr) != 0) {
    return unreadable("decode");
  }
  PARLEY_ASSIGN_OR_RETURN(ImagePtr image, to_srgb(ImagePtr(out)));
  out = vips_image_copy_memory(image.get());
  if (out == nullptr) return unreadable("decode");
  return ImagePtr(out);
}

// Removes what process_image wrote when it fails half way.
struct Cleanup {
  std::vector<std::filesystem::path> paths;
  bool armed = true;
  ~Cleanup() {
    if (!armed) return;
    std::error_code ignored;
    for (const auto& p : paths) std::filesystem::remove(p, ignored);
  }
};

Result<ImageInfo> process(const std::filesystem::path& original, std::string_view type,
                          const std::filesystem::path& work_dir, const ImageLimits& limits) {
  // The header alone: a sequential loader reads no pixel until one is asked for.
  VipsImage* raw = vips_image_new_from_file(original.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                            VIPS_FAIL_ON_ERROR, nullptr);
  if (raw == nullptr) return unreadable("header");
  ImagePtr header(raw);
  const char* loader = nullptr;
  if (vips_image_get_string(header.get(), VIPS_META_LOADER, &loader) != 0 || loader == nullptr ||
      loader_for(type) != loader) {
    vips_error_clear();
    return unreadable(std::string(type) + " read by " + (loader ? loader : "no loader"));
  }
  const int w = vips_image_get_width(header.get());
  const int h = vips_image_get_height(header.get());
  if (w <= 0 || h <= 0) return unreadable("no pixels");
  if (w > limits.max_side || h > limits.max_side ||
      static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h) > limits.max_pixels) {
    Error e{Errc::validation_failed, "image is " + std::to_string(w) + "x" + std::to_string(h) + ", over " +
                                         std::to_string(limits.max_pixels) + " pixels or " +
                                         std::to_string(limits.max_side) + " a side"};
    return e.with("reason", "image_too_large");
  }
  const bool upright = vips_image_get_orientation(header.get()) <= 1;
  ImageInfo info;
  info.width = vips_image_get_orientation_swap(header.get()) ? h : w;
  info.height = vips_image_get_orientation_swap(header.get()) ? w : h;
  header.reset();

  // The largest thumbnail, kept in memory; the smaller ones and the BlurHash are made from it.
  const int largest = kVariantSides[std::size(kVariantSides) - 1];
  const bool jpeg = type == "image/jpeg";
  const int longest = std::max(info.width, info.height);
  // A JPEG is rewritten: an upright one by leaving its metadata segments out, a turned one by
  // decoding it whole (once, for the thumbnails too), turning it and encoding it again.
  ImagePtr full, base;
  if (jpeg && upright) {
    PARLEY_ASSIGN_OR_RETURN(base, decode_jpeg_thumbnail(original, longest, largest));
  } else if (jpeg) {
    PARLEY_ASSIGN_OR_RETURN(full, decode_jpeg(original));
    PARLEY_ASSIGN_OR_RETURN(base, shrink(full.get(), largest));
    VipsImage* out = vips_image_copy_memory(base.get());
    if (out == nullptr) return vips_failure("thumbnail");
    base.reset(out);
  } else {
    PARLEY_ASSIGN_OR_RETURN(base, decode_thumbnail(original, largest));
  }

  Cleanup cleanup;
  for (int side : kVariantSides) {
    if (side > longest) continue;
    ImagePtr sized;
    if (side == largest) {
      sized.reset(static_cast<VipsImage*>(g_object_ref(base.get())));
    } else {
      PARLEY_ASSIGN_OR_RETURN(sized, shrink(base.get(), side));
    }
    PARLEY_ASSIGN_OR_RETURN(Variant v, write_variant(sized.get(), std::to_string(side), work_dir));
    cleanup.paths.push_back(v.path);
    info.variants.push_back(std::move(v));
  }
  PARLEY_ASSIGN_OR_RETURN(info.blurhash, blurhash_of(base.get()));
  base.reset();

  if (!full) {
    PARLEY_ASSIGN_OR_RETURN(const std::optional<bool> replaced, strip_original(original, type, work_dir));
    if (replaced) {
      info.rewritten_original = *replaced;
    } else if (jpeg) {
      PARLEY_ASSIGN_OR_RETURN(full, decode_jpeg(original));
    } else {
      return unreadable("container");
    }
  }
  if (full) {
    PARLEY_TRY(rewrite_jpeg(full.get(), original, work_dir));
    info.rewritten_original = true;
  }
  cleanup.armed = false;
  return info;
}

}  // namespace

bool is_processable_image_type(std::string_view sniffed_type) { return !loader_for(sniffed_type).empty(); }

Status init_images() {
  InitState& state = init_state();
  std::call_once(state.once, [&state] {
    if (VIPS_INIT("parley") != 0) {
      state.error = "libvips did not start: " + take_vips_error();
      return;
    }
    g_log_set_handler("VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
                      log_vips_message, nullptr);
    vips_concurrency_set(1);
    // No operation cache: every upload is a different file, and a cached header could outlive
    // the file it came from.
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoad", TRUE);
    for (const char* name : kAllowedLoaders) vips_operation_block_set(name, FALSE);
  });
  if (!state.error.empty()) return Error{Errc::unavailable, state.error};
  return ok_status();
}

Result<std::optional<ImageInfo>> process_image(const std::filesystem::path& original, std::string_view sniffed_type,
                                               const std::filesystem::path& work_dir, const ImageLimits& limits) {
  if (!is_processable_image_type(sniffed_type)) return std::optional<ImageInfo>{};
  for (const auto* p : {&original, &work_dir}) {
    if (!p->empty() && p->native().back() == ']') {
      return failure("path", "ends in ']': " + p->string());
    }
  }
  PARLEY_TRY(init_images());
  Result<ImageInfo> result = process(original, sniffed_type, work_dir, limits);
  vips_error_clear();
  vips_thread_shutdown();  // frees this thread's libvips buffers; they are made again if needed
  if (!result) return std::move(result).error();
  return std::optional<ImageInfo>(std::move(result).value());
}

}  // namespace parley::files
