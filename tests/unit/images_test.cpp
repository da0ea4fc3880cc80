// Image processing (docs/files.md, "Images"): thumbnails' sizes and format, orientation,
// metadata left out of thumbnails and of rewritten JPEG originals, the limits checked from the
// header, unreadable files, and the BlurHash. Every image is made here with libvips itself.
#include <gtest/gtest.h>
#include <vips/vips.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "files/blurhash.hpp"
#include "files/images.hpp"
#include "files/metadata_strip.hpp"

namespace parley::files {
namespace {

namespace fs = std::filesystem;

struct ImageUnref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, ImageUnref>;

constexpr std::string_view kArtist = "ParleyTestArtistNotToLeak";
constexpr std::string_view kAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_bytes(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

ImagePtr take(VipsImage* image) {
  EXPECT_NE(image, nullptr) << vips_error_buffer();
  return ImagePtr(image);
}

// An sRGB gradient, w x h: red along x, green along y, blue constant; `alpha` adds a band
// fading along x.
ImagePtr gradient(int w, int h, bool alpha = false) {
  VipsImage* xyz = nullptr;
  vips_xyz(&xyz, w, h, nullptr);
  ImagePtr coords = take(xyz);
  VipsImage *x = nullptr, *y = nullptr, *rx = nullptr, *gy = nullptr, *b = nullptr, *joined = nullptr;
  vips_extract_band(coords.get(), &x, 0, nullptr);
  vips_extract_band(coords.get(), &y, 1, nullptr);
  ImagePtr px = take(x), py = take(y);
  vips_linear1(px.get(), &rx, 255.0 / w, 0, nullptr);
  vips_linear1(py.get(), &gy, 255.0 / h, 0, nullptr);
  ImagePtr r = take(rx), g = take(gy);
  vips_linear1(px.get(), &b, 0, 96, nullptr);
  ImagePtr blue = take(b);
  std::vector<VipsImage*> bands{r.get(), g.get(), blue.get()};
  ImagePtr a;
  if (alpha) {
    VipsImage* fade = nullptr;
    vips_linear1(px.get(), &fade, -255.0 / w, 255, nullptr);
    a = take(fade);
    bands.push_back(a.get());
  }
  vips_bandjoin(bands.data(), &joined, static_cast<int>(bands.size()), nullptr);
  ImagePtr all = take(joined);
  VipsImage *u = nullptr, *typed = nullptr;
  vips_cast_uchar(all.get(), &u, nullptr);
  ImagePtr uc = take(u);
  vips_copy(uc.get(), &typed, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr);
  return take(typed);
}

// Adds EXIF fields (an artist, a GPS position) and an orientation to a copy of `image`.
ImagePtr with_exif(VipsImage* image, int orientation) {
  VipsImage* copy = nullptr;
  vips_copy(image, &copy, nullptr);
  ImagePtr out = take(copy);
  vips_image_set_int(out.get(), VIPS_META_ORIENTATION, orientation);
  vips_image_set_string(out.get(), "exif-ifd0-Artist", std::string(kArtist).c_str());
  vips_image_set_string(out.get(), "exif-ifd3-GPSLatitudeRef", "N");
  vips_image_set_string(out.get(), "exif-ifd3-GPSLatitude", "48/1 51/1 30/1");
  return out;
}

ImagePtr load(const fs::path& p) {
  return take(vips_image_new_from_file(p.c_str(), "access", VIPS_ACCESS_RANDOM, nullptr));
}

// The decoded pixels of an encoded image, as bytes.
std::string pixels_of(std::string_view encoded) {
  VipsImage* image = vips_image_new_from_buffer(encoded.data(), encoded.size(), "", nullptr);
  if (image == nullptr) {
    ADD_FAILURE() << "undecodable: " << vips_error_buffer();
    return "undecodable";
  }
  ImagePtr owner(image);
  std::size_t size = 0;
  void* mem = vips_image_write_to_memory(image, &size);
  std::string out(static_cast<const char*>(mem), size);
  g_free(mem);
  return out;
}

bool has_field(VipsImage* image, const char* name) { return vips_image_get_typeof(image, name) != 0; }

bool has_exif_fields(VipsImage* image) {
  gchar** fields = vips_image_get_fields(image);
  bool found = false;
  for (gchar** f = fields; *f; ++f) found |= std::string_view(*f).starts_with("exif-");
  g_strfreev(fields);
  return found || has_field(image, VIPS_META_EXIF_NAME) || has_field(image, VIPS_META_XMP_NAME) ||
         has_field(image, VIPS_META_IPTC_NAME);
}

// The chunk names of a WebP file (RIFF), or empty when it is not one.
std::vector<std::string> webp_chunks(const std::string& bytes) {
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WEBP") != 0) return {};
  std::vector<std::string> chunks;
  std::size_t at = 12;
  while (at + 8 <= bytes.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at + 4);
    const std::size_t size = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::size_t>(p[3]) << 24);
    chunks.push_back(bytes.substr(at, 4));
    at += 8 + size + (size & 1);
  }
  return chunks;
}

std::uint32_t crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put_be32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

class Images : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(init_images().ok());
    dir_ = fs::temp_directory_path() / ("parley-images-" + std::to_string(std::random_device{}()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "work");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path save(VipsImage* image, const std::string& name, int q = 90) {
    fs::path p = dir_ / name;
    const bool jpeg = name.ends_with(".jpg");
    const int rc =
        jpeg ? vips_jpegsave(image, p.c_str(), "Q", q, nullptr) : vips_image_write_to_file(image, p.c_str(), nullptr);
    EXPECT_EQ(rc, 0) << vips_error_buffer();
    return p;
  }
  fs::path work() const { return dir_ / "work"; }
  std::vector<fs::path> work_files() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(work())) out.push_back(e.path().filename());
    return out;
  }

  fs::path dir_;
};

std::string reason(const Error& e) {
  for (const auto& [k, v] : e.details) {
    if (k == "reason") return v;
  }
  return "";
}

TEST_F(Images, ALargeJpegGetsThreeWebpThumbnailsAndIsRewrittenWithoutMetadata) {
  ImagePtr src = with_exif(gradient(4000, 3000).get(), 1);
  fs::path original = save(src.get(), "big.jpg");
  ASSERT_TRUE(has_exif_fields(load(original).get()));  // the input carries what must not leak
  const std::string input = read_bytes(original);
  ASSERT_NE(input.find(kArtist), std::string::npos);

  auto r = process_image(original, "image/jpeg", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->has_value());
  const ImageInfo& info = **r;
  EXPECT_EQ(info.width, 4000);
  EXPECT_EQ(info.height, 3000);
  EXPECT_TRUE(info.rewritten_original);
  ASSERT_EQ(info.variants.size(), 3u);
  const int sides[][2] = {{64, 48}, {256, 192}, {1024, 768}};
  for (std::size_t i = 0; i < 3; ++i) {
    const Variant& v = info.variants[i];
    EXPECT_EQ(v.name, std::to_string(sides[i][0]));
    EXPECT_EQ(v.width, sides[i][0]);
    EXPECT_EQ(v.height, sides[i][1]);
    EXPECT_EQ(v.content_type, "image/webp");
    EXPECT_EQ(v.path, work() / (v.name + ".webp"));
    EXPECT_EQ(v.size, fs::file_size(v.path));
    const std::string bytes = read_bytes(v.path);
    EXPECT_EQ(bytes.substr(0, 4), "RIFF");
    EXPECT_EQ(bytes.substr(8, 4), "WEBP");
    for (const std::string& chunk : webp_chunks(bytes)) {
      EXPECT_TRUE(chunk == "VP8 " || chunk == "VP8L" || chunk == "VP8X" || chunk == "ALPH") << chunk;
    }
    EXPECT_EQ(bytes.find(kArtist), std::string::npos);
    ImagePtr thumb = load(v.path);
    EXPECT_EQ(vips_image_get_width(thumb.get()), v.width);
    EXPECT_FALSE(has_exif_fields(thumb.get()));
  }

  const std::string rewritten = read_bytes(original);
  EXPECT_EQ(rewritten.substr(0, 3), "\xFF\xD8\xFF");
  EXPECT_EQ(rewritten.find("Exif"), std::string::npos);
  EXPECT_EQ(rewritten.find("http://ns.adobe.com/xap"), std::string::npos);
  EXPECT_EQ(rewritten.find(kArtist), std::string::npos);
  ImagePtr back = load(original);
  EXPECT_EQ(vips_image_get_width(back.get()), 4000);
  EXPECT_EQ(vips_image_get_height(back.get()), 3000);
  EXPECT_FALSE(has_exif_fields(back.get()));
  EXPECT_FALSE(has_field(back.get(), VIPS_META_ICC_NAME));
  // Upright, it kept its compressed data: every pixel decodes as before.
  EXPECT_TRUE(pixels_of(rewritten) == pixels_of(input));
  // Only the thumbnails stay in the work dir (the rewrite's temporary file is gone).
  EXPECT_EQ(work_files().size(), 3u);
}

TEST_F(Images, TheExifOrientationIsAppliedAndTheGpsPositionLeftOut) {
  ImagePtr src = with_exif(gradient(400, 200).get(), 6);  // stored landscape, shown portrait
  fs::path original = save(src.get(), "turned.jpg");
  ImagePtr in = load(original);
  ASSERT_EQ(vips_image_get_orientation(in.get()), 6);
  ASSERT_TRUE(has_field(in.get(), "exif-ifd3-GPSLatitude")) << "libvips wrote no GPS field";
  in.reset();

  auto r = process_image(original, "image/jpeg", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ImageInfo& info = **r;
  EXPECT_EQ(info.width, 200);
  EXPECT_EQ(info.height, 400);
  ASSERT_EQ(info.variants.size(), 2u);  // 64 and 256; 1024 would be larger than the image
  EXPECT_EQ(info.variants[0].width, 32);
  EXPECT_EQ(info.variants[0].height, 64);
  EXPECT_EQ(info.variants[1].width, 128);
  EXPECT_EQ(info.variants[1].height, 256);
  for (const Variant& v : info.variants) EXPECT_FALSE(has_exif_fields(load(v.path).get()));

  ImagePtr back = load(original);
  EXPECT_EQ(vips_image_get_width(back.get()), 200);
  EXPECT_EQ(vips_image_get_height(back.get()), 400);
  EXPECT_EQ(vips_image_get_orientation(back.get()), 1);
  EXPECT_FALSE(has_exif_fields(back.get()));
  const std::string bytes = read_bytes(original);
  EXPECT_EQ(bytes.find("Exif"), std::string::npos);
  EXPECT_EQ(bytes.find(kArtist), std::string::npos);
}

// A JPEG as a camera might write it: SOI, then metadata segments, the image, EOI and a trailer.
std::string camera_jpeg(std::string_view plain_jpeg) {
  const auto segment = [](unsigned char marker, std::string_view payload) {
    std::string s("\xFF", 1);
    s += static_cast<char>(marker);
    const std::size_t length = payload.size() + 2;
    s += static_cast<char>(length >> 8);
    s += static_cast<char>(length & 0xFF);
    s.append(payload);
    return s;
  };
  std::string out(plain_jpeg.substr(0, 2));
  out += segment(0xE1, std::string("Exif\0\0", 6) + std::string(kArtist) + " GPS 48N");
  out += segment(0xE1, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>" + std::string(kArtist) + "</x:xmpmeta>");
  out += segment(0xED, "Photoshop 3.0\0" + std::string(kArtist));
  out += segment(0xFE, "comment " + std::string(kArtist));
  out += segment(0xE2, std::string("ICC_PROFILE\0\x01\x01", 14) + "not a real profile");
  out.append(plain_jpeg.substr(2));
  out += "MotionPhoto trailer " + std::string(kArtist);
  return out;
}

TEST(JpegWithoutMetadata, LeavesOutEverySegmentButWhatDecodingNeedsLosslessly) {
  ASSERT_TRUE(init_images().ok());
  for (bool progressive : {false, true}) {
    ImagePtr src = gradient(333, 201);
    void* buf = nullptr;
    std::size_t len = 0;
    ASSERT_EQ(vips_jpegsave_buffer(src.get(), &buf, &len, "Q", 85, "interlace", progressive, "restart_interval", 3,
                                   "strip", TRUE, nullptr),
              0)
        << vips_error_buffer();
    const std::string plain(static_cast<const char*>(buf), len);
    g_free(buf);
    const std::string camera = camera_jpeg(plain);
    ASSERT_NE(camera.find(kArtist), std::string::npos);

    const auto stripped = jpeg_without_metadata(camera);
    ASSERT_TRUE(stripped) << progressive;
    EXPECT_EQ(stripped->find(kArtist), std::string::npos);
    EXPECT_EQ(stripped->find("Exif"), std::string::npos);
    EXPECT_EQ(stripped->find("Photoshop"), std::string::npos);
    EXPECT_NE(stripped->find("ICC_PROFILE"), std::string::npos);  // the colours stay
    EXPECT_EQ(stripped->substr(stripped->size() - 2), "\xFF\xD9");
    EXPECT_EQ(pixels_of(*stripped), pixels_of(plain));
    // The plain file loses only its JFIF header.
    const auto again = jpeg_without_metadata(plain);
    ASSERT_TRUE(again);
    EXPECT_EQ(pixels_of(*again), pixels_of(plain));
  }
}

TEST(JpegWithoutMetadata, RefusesWhatIsNotAWholeJpeg) {
  EXPECT_FALSE(jpeg_without_metadata(""));
  EXPECT_FALSE(jpeg_without_metadata("\x89PNG\r\n\x1a\n"));
  EXPECT_FALSE(jpeg_without_metadata(std::string("\xFF\xD8\xFF\xE1\x00\x40short", 11)));
  ASSERT_TRUE(init_images().ok());
  ImagePtr src = gradient(64, 64);
  void* buf = nullptr;
  std::size_t len = 0;
  ASSERT_EQ(vips_jpegsave_buffer(src.get(), &buf, &len, nullptr), 0);
  const std::string jpeg(static_cast<const char*>(buf), len);
  g_free(buf);
  EXPECT_FALSE(jpeg_without_metadata(jpeg.substr(0, jpeg.size() - 2)));  // no EOI
}

TEST(WebpWithoutMetadata, LeavesOutExifXmpAndIcc) {
  ASSERT_TRUE(init_images().ok());
  ImagePtr src = with_exif(gradient(100, 80).get(), 1);
  void* buf = nullptr;
  std::size_t len = 0;
  ASSERT_EQ(vips_webpsave_buffer(src.get(), &buf, &len, nullptr), 0);
  const std::string webp(static_cast<const char*>(buf), len);
  g_free(buf);
  ASSERT_NE(webp.find(kArtist), std::string::npos);
  const auto stripped = webp_without_metadata(webp);
  ASSERT_TRUE(stripped);
  EXPECT_EQ(stripped->find(kArtist), std::string::npos);
  for (const std::string& chunk : webp_chunks(*stripped)) EXPECT_NE(chunk, "EXIF");
  EXPECT_EQ(pixels_of(*stripped), pixels_of(webp));
  EXPECT_FALSE(webp_without_metadata("RIFF\x10\0\0\0WEBPVP8 \xFF\0\0\0"));  // a chunk past the end
}

TEST_F(Images, APngKeepsItsAlphaAndIsNotRewritten) {
  ImagePtr src = gradient(300, 200, true);
  fs::path original = save(src.get(), "alpha.png");
  const std::string before = read_bytes(original);
  auto r = process_image(original, "image/png", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ImageInfo& info = **r;
  EXPECT_FALSE(info.rewritten_original);
  EXPECT_EQ(read_bytes(original), before);
  ASSERT_EQ(info.variants.size(), 2u);
  EXPECT_EQ(info.variants[1].width, 256);
  EXPECT_EQ(info.variants[1].height, 171);
  ImagePtr thumb = load(info.variants[1].path);
  EXPECT_TRUE(vips_image_hasalpha(thumb.get()));
  EXPECT_EQ(info.blurhash.size(), 28u);
}

// A PNG chunk: length, type, data, CRC.
std::string png_chunk(std::string_view type, std::string_view data) {
  std::string c(4, '\0');
  put_be32(c, 0, static_cast<std::uint32_t>(data.size()));
  c.append(type);
  c.append(data);
  std::string crc(4, '\0');
  put_be32(crc, 0, crc32(std::string_view(c).substr(4)));
  return c + crc;
}

TEST_F(Images, APngAndAWebpLoseTheirMetadataLosslessly) {
  ImagePtr src = gradient(200, 150, true);
  const std::string plain = read_bytes(save(src.get(), "plain.png"));
  const std::size_t after_ihdr = 8 + 25;
  std::string png = plain.substr(0, after_ihdr) + png_chunk("tEXt", "Author\0" + std::string(kArtist)) +
                    png_chunk("eXIf", "MM\0*" + std::string(kArtist)) + plain.substr(after_ihdr) + "trailer";
  const fs::path original = dir_ / "meta.png";
  write_bytes(original, png);
  ASSERT_EQ(pixels_of(png), pixels_of(plain));  // libvips reads it

  auto r = process_image(original, "image/png", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)->rewritten_original);
  const std::string after = read_bytes(original);
  EXPECT_EQ(after.find(kArtist), std::string::npos);
  EXPECT_EQ(after.find("trailer"), std::string::npos);
  EXPECT_EQ(pixels_of(after), pixels_of(plain));

  ImagePtr exif = with_exif(src.get(), 1);
  const fs::path webp = save(exif.get(), "meta.webp");
  ASSERT_NE(read_bytes(webp).find(kArtist), std::string::npos);
  const std::string webp_pixels = pixels_of(read_bytes(webp));
  r = process_image(webp, "image/webp", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE((*r)->rewritten_original);
  EXPECT_EQ(read_bytes(webp).find(kArtist), std::string::npos);
  EXPECT_EQ(pixels_of(read_bytes(webp)), webp_pixels);
}

TEST(PngWithoutMetadata, RefusesWhatIsNotAWholePng) {
  EXPECT_FALSE(png_without_metadata(""));
  EXPECT_FALSE(png_without_metadata("\xFF\xD8\xFF"));
  const std::string sig("\x89PNG\r\n\x1a\n", 8);
  EXPECT_FALSE(png_without_metadata(sig + png_chunk("IHDR", std::string(13, '\1'))));  // no IEND
  std::string huge = sig + png_chunk("IHDR", std::string(13, '\1'));
  put_be32(huge, 8, 0x7FFFFFFF);  // a length past the end
  EXPECT_FALSE(png_without_metadata(huge + png_chunk("IEND", "")));
  EXPECT_EQ(png_without_metadata(sig + png_chunk("IEND", "") + "x"), sig + png_chunk("IEND", ""));
}

// Damaged files (bytes changed, cut short) at random but repeatably: the container parsers
// answer something or std::nullopt and read nothing outside the input (run under ASan), and
// process_image answers a Result.
TEST_F(Images, DamagedFilesGiveAnAnswerNotACrash) {
  ImagePtr src = with_exif(gradient(96, 64, true).get(), 1);
  std::vector<std::pair<std::string, std::string>> files;  // type, bytes
  for (const char* name : {"f.jpg", "f.png", "f.webp"}) {
    const std::string type = std::string("image/") + (name[2] == 'j' ? "jpeg" : name + 2);
    files.emplace_back(type, read_bytes(save(src.get(), name)));
  }
  std::mt19937 rng(20261207);
  int processed = 0;
  for (const auto& [type, good] : files) {
    for (int round = 0; round < 400; ++round) {
      std::string bad = good;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) bad[rng() % bad.size()] = static_cast<char>(rng());
      if (round % 3 == 0) bad.resize(rng() % bad.size());
      (void)jpeg_without_metadata(bad);
      (void)png_without_metadata(bad);
      (void)webp_without_metadata(bad, round % 2 == 0);
      if (round % 20 == 0) {
        const fs::path p = dir_ / "damaged";
        write_bytes(p, bad);
        auto r = process_image(p, type, work(), {});
        if (!r.ok()) {
          EXPECT_EQ(r.error().code, Errc::validation_failed) << r.error().message;
        }
        ++processed;
      }
    }
  }
  EXPECT_EQ(processed, 60);
}

TEST_F(Images, ATinyImageGetsNoThumbnailButABlurhash) {
  ImagePtr src = gradient(1, 1);
  fs::path original = save(src.get(), "dot.png");
  auto r = process_image(original, "image/png", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->width, 1);
  EXPECT_EQ((*r)->height, 1);
  EXPECT_TRUE((*r)->variants.empty());
  EXPECT_EQ((*r)->blurhash.size(), 28u);
  EXPECT_TRUE(work_files().empty());
}

TEST_F(Images, AnImageExactlyAVariantsSizeGetsThatVariantAtItsOwnSize) {
  ImagePtr src = gradient(256, 100);
  auto r = process_image(save(src.get(), "edge.webp"), "image/webp", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ((*r)->variants.size(), 2u);
  EXPECT_EQ((*r)->variants[1].name, "256");
  EXPECT_EQ((*r)->variants[1].width, 256);
  EXPECT_EQ((*r)->variants[1].height, 100);
}

TEST_F(Images, AnAnimatedGifIsReadByItsFirstFrame) {
  // Two 120x80 frames stacked: red, then blue.
  ImagePtr red = gradient(120, 80);
  VipsImage *blue = nullptr, *stacked = nullptr;
  vips_flip(red.get(), &blue, VIPS_DIRECTION_HORIZONTAL, nullptr);
  ImagePtr second = take(blue);
  VipsImage* frames[] = {red.get(), second.get()};
  vips_arrayjoin(frames, &stacked, 2, "across", 1, nullptr);
  ImagePtr anim = take(stacked);
  vips_image_set_int(anim.get(), VIPS_META_PAGE_HEIGHT, 80);
  vips_image_set_int(anim.get(), VIPS_META_N_PAGES, 2);
  fs::path original = save(anim.get(), "anim.gif");
  auto r = process_image(original, "image/gif", work(), {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)->width, 120);
  EXPECT_EQ((*r)->height, 80);
  ASSERT_EQ((*r)->variants.size(), 1u);
  EXPECT_EQ((*r)->variants[0].width, 64);
  EXPECT_EQ((*r)->variants[0].height, 43);
}

TEST_F(Images, AHeaderClaimingTooManyPixelsIsRefusedWithoutDecoding) {
  // A real 1x1 PNG whose IHDR now claims 30000x30000 (900 megapixels): a decompression bomb's
  // header. Were it decoded, its one-pixel data would make it unreadable, not too large.
  ImagePtr src = gradient(1, 1);
  std::string png = read_bytes(save(src.get(), "dot.png"));
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  const auto patched = [&](std::uint32_t w, std::uint32_t h) {
    std::string s = png;
    put_be32(s, 16, w);
    put_be32(s, 20, h);
    put_be32(s, 29, crc32(std::string_view(s).substr(12, 17)));
    return s;
  };
  const fs::path bomb = dir_ / "bomb.png";
  write_bytes(bomb, patched(30000, 30000));
  const auto start = std::chrono::steady_clock::now();
  auto r = process_image(bomb, "image/png", work(), {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::validation_failed);
  EXPECT_EQ(reason(r.error()), "image_too_large");
  EXPECT_TRUE(work_files().empty());

  // A side over the limit, with few pixels.
  write_bytes(bomb, patched(20001, 1));
  r = process_image(bomb, "image/png", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "image_too_large");

  // Within the limits, the same forged header is a file that cannot be read.
  write_bytes(bomb, patched(2000, 2000));
  r = process_image(bomb, "image/png", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "unreadable_image");

  // Limits are the caller's.
  ImagePtr mid = gradient(300, 200);
  r = process_image(save(mid.get(), "mid.png"), "image/png", work(), {.max_pixels = 50'000, .max_side = 1000});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "image_too_large");
}

TEST_F(Images, ATruncatedJpegIsUnreadableAndLeftAsItWas) {
  ImagePtr src = gradient(1200, 900);
  fs::path original = save(src.get(), "cut.jpg");
  std::string bytes = read_bytes(original);
  bytes.resize(bytes.size() / 2);
  write_bytes(original, bytes);
  auto r = process_image(original, "image/jpeg", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::validation_failed);
  EXPECT_EQ(reason(r.error()), "unreadable_image");
  EXPECT_EQ(r.error().message.find(dir_.string()), std::string::npos);  // the message reaches clients
  EXPECT_EQ(read_bytes(original), bytes);
  EXPECT_TRUE(work_files().empty());
}

TEST_F(Images, AFileThatIsNotTheImageItsTypeClaimsIsUnreadable) {
  ImagePtr src = gradient(50, 50);
  auto r = process_image(save(src.get(), "png.png"), "image/jpeg", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "unreadable_image");

  // An SVG is never rendered, whatever type it is said to be.
  const fs::path svg = dir_ / "x.svg";
  write_bytes(svg,
              R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>)");
  r = process_image(svg, "image/png", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "unreadable_image");

  write_bytes(dir_ / "garbage.gif", "GIF89a not really");
  r = process_image(dir_ / "garbage.gif", "image/gif", work(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(reason(r.error()), "unreadable_image");
}

TEST_F(Images, TypesThatAreNotImagesToProcessGiveNothing) {
  write_bytes(dir_ / "notes.txt", "just some text\n");
  for (std::string_view type : {"text/plain", "image/svg+xml", "application/pdf", "image/x-icon", ""}) {
    auto r = process_image(dir_ / "notes.txt", type, work(), {});
    ASSERT_TRUE(r.ok()) << type;
    EXPECT_FALSE(r->has_value()) << type;
  }
  EXPECT_TRUE(is_processable_image_type("image/jpeg"));
  EXPECT_TRUE(is_processable_image_type("image/tiff"));
  EXPECT_FALSE(is_processable_image_type("image/svg+xml"));
}

TEST_F(Images, TheSameImageGivesTheSameBlurhashOfDecodableCharacters) {
  ImagePtr src = gradient(640, 480);
  fs::path a = save(src.get(), "a.tif");
  fs::copy_file(a, dir_ / "b.tif");
  auto ra = process_image(a, "image/tiff", work(), {});
  fs::remove_all(work());
  fs::create_directories(work());
  auto rb = process_image(dir_ / "b.tif", "image/tiff", work(), {});
  ASSERT_TRUE(ra.ok() && rb.ok());
  const std::string& hash = (*ra)->blurhash;
  EXPECT_EQ(hash, (*rb)->blurhash);
  ASSERT_EQ(hash.size(), 28u);
  for (char c : hash) EXPECT_NE(kAlphabet.find(c), std::string_view::npos) << c;
  EXPECT_EQ(hash[0], 'L');  // (4 - 1) + (3 - 1) * 9 = 21
}

TEST_F(Images, SeveralThreadsProcessImagesAtOnce) {
  ImagePtr src = with_exif(gradient(900, 700).get(), 3);
  std::vector<fs::path> originals;
  for (int i = 0; i < 4; ++i) {
    originals.push_back(save(src.get(), "t" + std::to_string(i) + ".jpg"));
    fs::create_directories(dir_ / ("w" + std::to_string(i)));
  }
  std::vector<std::string> hashes(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto r = process_image(originals[i], "image/jpeg", dir_ / ("w" + std::to_string(i)), {});
      if (r.ok() && r->has_value()) hashes[i] = (*r)->blurhash;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& h : hashes) EXPECT_EQ(h, hashes[0]);
  EXPECT_EQ(hashes[0].size(), 28u);
}

// The encoder itself.
int decode83(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 83 + static_cast<int>(kAlphabet.find(c));
  return v;
}

TEST(Blurhash, ABlackImageHasNoDetailAndAUniformOneItsColourAsAverage) {
  std::vector<std::uint8_t> black(8 * 6 * 3, 0);
  EXPECT_EQ(blurhash_encode(black, 8, 6), "L00000fQfQfQfQfQfQfQfQfQfQfQ");
  std::vector<std::uint8_t> px;
  for (int i = 0; i < 8 * 6; ++i) px.insert(px.end(), {200, 100, 30});
  const std::string hash = blurhash_encode(px, 8, 6);
  ASSERT_EQ(hash.size(), 28u);
  EXPECT_EQ(decode83(hash.substr(0, 1)), 21);  // (4 - 1) + (3 - 1) * 9
  EXPECT_EQ(decode83(hash.substr(2, 4)), (200 << 16) | (100 << 8) | 30);
}

TEST(Blurhash, HasTheLengthOfItsComponentsAndRefusesBadArguments) {
  std::vector<std::uint8_t> px(10 * 10 * 3, 7);
  EXPECT_EQ(blurhash_encode(px, 10, 10, 1, 1).size(), 6u);
  EXPECT_EQ(blurhash_encode(px, 10, 10, 9, 9).size(), 4u + 2 * 81);
  EXPECT_TRUE(blurhash_encode(px, 10, 10, 0, 3).empty());
  EXPECT_TRUE(blurhash_encode(px, 11, 10).empty());  // too few bytes
}

TEST(Blurhash, DifferentPicturesGetDifferentHashes) {
  std::vector<std::uint8_t> left, right;
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 16; ++x) {
      left.insert(left.end(), 3, static_cast<std::uint8_t>(x * 17));
      right.insert(right.end(), 3, static_cast<std::uint8_t>(255 - x * 17));
    }
  }
  const std::string a = blurhash_encode(left, 16, 4), b = blurhash_encode(right, 16, 4);
  EXPECT_EQ(a.substr(2, 4), b.substr(2, 4));  // mirror images: the same average
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace parley::files
