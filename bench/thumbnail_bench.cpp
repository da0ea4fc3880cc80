// Image processing (src/files/images.hpp) on one generated photo-like JPEG (by default 12
// megapixels, 4000x3000, a gradient with Gaussian noise, quality 90): process_image() N times on
// a fresh copy each time (it rewrites JPEG originals), each run on this one thread, as one files
// worker runs it. Prints min/median/p90 of wall time and of the process's CPU time (the fairer
// figure on a busy machine: libvips' one worker thread is not this thread) and one JSON line; checks that every run
// made three thumbnails and a BlurHash (exit 1 otherwise), never speed. The target: <= 150 ms.
//   usage: parley-thumbnail-bench [--runs N] [--width W] [--height H] [--orientation 1..8] [--quality Q]
#include <vips/vips.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "files/images.hpp"

using namespace parley;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Options {
  int runs = 10;
  int width = 4000;
  int height = 3000;
  int orientation = 1;
  int quality = 90;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr, "parley-thumbnail-bench: %s\n", why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) usage(a + " needs a value");
      return std::atoi(argv[++i]);
    };
    if (a == "--runs")
      o.runs = next();
    else if (a == "--width")
      o.width = next();
    else if (a == "--height")
      o.height = next();
    else if (a == "--orientation")
      o.orientation = next();
    else if (a == "--quality")
      o.quality = next();
    else
      usage("unknown option " + a);
  }
  if (o.runs < 1 || o.width < 1 || o.height < 1 || o.orientation < 1 || o.orientation > 8) usage("bad value");
  return o;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "parley-thumbnail-bench: %s: %s\n", what, vips_error_buffer());
  std::exit(1);
}

// A photo-like sRGB image: smooth colour gradients (sky, ground) under sensor-like noise, so the
// JPEG is about as hard to code as a camera's.
void make_photo(const Options& o, const fs::path& out) {
  VipsImage* t = vips_image_new();
  VipsImage** v = reinterpret_cast<VipsImage**>(vips_object_local_array(VIPS_OBJECT(t), 12));
  if (vips_xyz(&v[0], o.width, o.height, nullptr) || vips_extract_band(v[0], &v[1], 0, nullptr) ||
      vips_extract_band(v[0], &v[2], 1, nullptr) || vips_linear1(v[1], &v[3], 200.0 / o.width, 30, nullptr) ||
      vips_linear1(v[2], &v[4], 160.0 / o.height, 60, nullptr) ||
      vips_linear1(v[2], &v[5], -150.0 / o.height, 200, nullptr)) {
    die("gradient");
  }
  VipsImage* bands[] = {v[3], v[4], v[5]};
  if (vips_bandjoin(bands, &v[6], 3, nullptr) ||
      vips_gaussnoise(&v[7], o.width, o.height, "mean", 0.0, "sigma", 18.0, nullptr) ||
      vips_add(v[6], v[7], &v[8], nullptr) || vips_cast_uchar(v[8], &v[9], nullptr) ||
      vips_copy(v[9], &v[10], "interpretation", VIPS_INTERPRETATION_sRGB, nullptr)) {
    die("noise");
  }
  vips_image_set_int(v[10], VIPS_META_ORIENTATION, o.orientation);
  vips_image_set_string(v[10], "exif-ifd3-GPSLatitude", "48/1 51/1 30/1");
  if (vips_jpegsave(v[10], out.c_str(), "Q", o.quality, nullptr)) die("jpegsave");
  g_object_unref(t);
}

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double pct(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!files::init_images().ok()) die("init");
  const fs::path dir = fs::temp_directory_path() / ("parley-thumbnail-bench-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir / "work");
  const fs::path photo = dir / "photo.jpg", original = dir / "original.jpg";
  make_photo(o, photo);
  const auto photo_bytes = fs::file_size(photo);

  bool ok = true;
  std::vector<double> ms, cpu;
  std::uint64_t thumb_bytes = 0, rewritten_bytes = 0;
  std::string blurhash;
  for (int run = 0; run < o.runs; ++run) {
    fs::copy_file(photo, original, fs::copy_options::overwrite_existing);
    const auto t0 = Clock::now();
    const double c0 = cpu_ms();
    auto r = files::process_image(original, "image/jpeg", dir / "work", {});
    cpu.push_back(cpu_ms() - c0);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r.ok() || !r->has_value()) {
      std::fprintf(stderr, "parley-thumbnail-bench: %s\n", r.ok() ? "not an image" : r.error().message.c_str());
      ok = false;
      break;
    }
    const files::ImageInfo& info = **r;
    const bool expected = info.variants.size() == 3 && info.blurhash.size() == 28 && info.rewritten_original &&
                          (blurhash.empty() || blurhash == info.blurhash);
    if (!expected) ok = false;
    blurhash = info.blurhash;
    thumb_bytes = 0;
    for (const auto& v : info.variants) thumb_bytes += v.size;
    rewritten_bytes = fs::file_size(original);
  }
  fs::remove_all(dir);

  const double min = ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end());
  const double median = ms.empty() ? 0 : pct(ms, 0.5), p90 = ms.empty() ? 0 : pct(ms, 0.9);
  std::printf("process_image on a %dx%d JPEG (Q %d, %.1f MB, orientation %d), %d runs, one thread\n", o.width, o.height,
              o.quality, static_cast<double>(photo_bytes) / 1e6, o.orientation, o.runs);
  const double cpu_min = cpu.empty() ? 0 : *std::min_element(cpu.begin(), cpu.end());
  const double cpu_median = cpu.empty() ? 0 : pct(cpu, 0.5), cpu_p90 = cpu.empty() ? 0 : pct(cpu, 0.9);
  std::printf("  wall  min %.1f ms  median %.1f ms  p90 %.1f ms\n", min, median, p90);
  std::printf("  cpu   min %.1f ms  median %.1f ms  p90 %.1f ms\n", cpu_min, cpu_median, cpu_p90);
  std::printf("  thumbnails 64+256+1024: %.1f kB; rewritten original %.1f MB; blurhash %s\n",
              static_cast<double>(thumb_bytes) / 1e3, static_cast<double>(rewritten_bytes) / 1e6, blurhash.c_str());
  std::printf(
      "{\"benchmark\":\"thumbnail\",\"width\":%d,\"height\":%d,\"quality\":%d,\"orientation\":%d,\"runs\":%d,"
      "\"input_bytes\":%llu,\"min_ms\":%.2f,\"median_ms\":%.2f,\"p90_ms\":%.2f,\"cpu_min_ms\":%.2f,\"cpu_median_ms\":%."
      "2f,\"cpu_p90_ms\":%.2f,"
      "\"thumbnail_bytes\":%llu,"
      "\"rewritten_bytes\":%llu,\"result\":\"%s\"}\n",
      o.width, o.height, o.quality, o.orientation, o.runs, static_cast<unsigned long long>(photo_bytes), min, median,
      p90, cpu_min, cpu_median, cpu_p90, static_cast<unsigned long long>(thumb_bytes),
      static_cast<unsigned long long>(rewritten_bytes), ok ? "ok" : "failed");
  return ok ? 0 : 1;
}
