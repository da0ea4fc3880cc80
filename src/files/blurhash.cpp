#include "files/blurhash.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

namespace parley::files {

namespace {

constexpr std::string_view kDigits =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

// `value` as `length` base-83 digits, most significant first.
void append_base83(std::string& out, int value, int length) {
  int divisor = 1;
  for (int i = 1; i < length; ++i) divisor *= 83;
  for (int i = 0; i < length; ++i) {
    out += kDigits[static_cast<std::size_t>((value / divisor) % 83)];
    divisor /= 83;
  }
}

double srgb_to_linear(std::uint8_t c) {
  const double v = c / 255.0;
  return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}

int linear_to_srgb(double v) {
  v = std::clamp(v, 0.0, 1.0);
  const double s = v <= 0.0031308 ? v * 12.92 : 1.055 * std::pow(v, 1.0 / 2.4) - 0.055;
  return static_cast<int>(std::lround(s * 255.0));
}

double signed_sqrt(double v) { return std::copysign(std::sqrt(std::abs(v)), v); }

using Rgb = std::array<double, 3>;

}  // namespace

std::string blurhash_encode(std::span<const std::uint8_t> rgb, int width, int height, int x_components,
                            int y_components) {
  if (width <= 0 || height <= 0 || x_components < 1 || x_components > 9 || y_components < 1 || y_components > 9) {
    return {};
  }
  const auto w = static_cast<std::size_t>(width);
  const auto h = static_cast<std::size_t>(height);
  if (rgb.size() < w * h * 3) return {};

  // The pixels in linear light, and the cosines of each axis once per (component, coordinate).
  std::vector<double> linear(w * h * 3);
  for (std::size_t i = 0; i < linear.size(); ++i) linear[i] = srgb_to_linear(rgb[i]);
  const auto cosines = [](int components, std::size_t n) {
    std::vector<double> c(static_cast<std::size_t>(components) * n);
    for (int k = 0; k < components; ++k) {
      for (std::size_t p = 0; p < n; ++p) {
        c[static_cast<std::size_t>(k) * n + p] =
            std::cos(std::numbers::pi * k * static_cast<double>(p) / static_cast<double>(n));
      }
    }
    return c;
  };
  const std::vector<double> cos_x = cosines(x_components, w);
  const std::vector<double> cos_y = cosines(y_components, h);

  // factors[j * x_components + i]: the image's weight on cos(pi i x / w) cos(pi j y / h);
  // the first is the average colour (DC), the others the detail (AC).
  std::vector<Rgb> factors;
  factors.reserve(static_cast<std::size_t>(x_components) * static_cast<std::size_t>(y_components));
  for (int j = 0; j < y_components; ++j) {
    for (int i = 0; i < x_components; ++i) {
      Rgb sum{0, 0, 0};
      for (std::size_t y = 0; y < h; ++y) {
        const double cy = cos_y[static_cast<std::size_t>(j) * h + y];
        for (std::size_t x = 0; x < w; ++x) {
          const double basis = cy * cos_x[static_cast<std::size_t>(i) * w + x];
          const double* px = &linear[(y * w + x) * 3];
          for (int c = 0; c < 3; ++c) sum[c] += basis * px[c];
        }
      }
      const double scale = (i == 0 && j == 0 ? 1.0 : 2.0) / static_cast<double>(w * h);
      for (double& v : sum) v *= scale;
      factors.push_back(sum);
    }
  }

  std::string out;
  out.reserve(4 + 2 * factors.size());
  append_base83(out, (x_components - 1) + (y_components - 1) * 9, 1);

  // The AC values are sent relative to their largest magnitude, itself quantised to 0..82.
  double max_ac = 1.0;
  if (factors.size() > 1) {
    double actual = 0;
    for (std::size_t k = 1; k < factors.size(); ++k) {
      for (double v : factors[k]) actual = std::max(actual, std::abs(v));
    }
    const int quantised = std::clamp(static_cast<int>(std::floor(actual * 166 - 0.5)), 0, 82);
    max_ac = (quantised + 1) / 166.0;
    append_base83(out, quantised, 1);
  } else {
    append_base83(out, 0, 1);
  }

  const Rgb& dc = factors[0];
  append_base83(out, (linear_to_srgb(dc[0]) << 16) + (linear_to_srgb(dc[1]) << 8) + linear_to_srgb(dc[2]), 4);

  for (std::size_t k = 1; k < factors.size(); ++k) {
    int value = 0;
    for (double v : factors[k]) {
      const int q = std::clamp(static_cast<int>(std::floor(signed_sqrt(v / max_ac) * 9 + 9.5)), 0, 18);
      value = value * 19 + q;
    }
    append_base83(out, value, 2);
  }
  return out;
}

}  // namespace parley::files
