#pragma once
// BlurHash (https://blurha.sh): a short base-83 string that a client decodes into a blurred
// placeholder while an image loads. Written from the format's public description. Pure
// function; thread-safe.
#include <cstdint>
#include <span>
#include <string>

namespace parley::files {

/// The BlurHash of an 8-bit sRGB image, `rgb` holding width*height*3 bytes row by row, with
/// `x_components` by `y_components` cosine components (each 1..9). Its length is
/// 4 + 2 * x_components * y_components (28 for 4x3). The same pixels give the same string.
/// Empty when the arguments are out of range or `rgb` is too short.
std::string blurhash_encode(std::span<const std::uint8_t> rgb, int width, int height, int x_components = 4,
                            int y_components = 3);

}  // namespace parley::files
