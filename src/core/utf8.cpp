#include "core/utf8.hpp"

namespace parley {

std::string utf8_prefix(const std::string& text, std::size_t n, bool& cut) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {  // a code point starts here
      if (chars == n) {
        cut = true;
        return text.substr(0, i);
      }
      ++chars;
    }
  }
  cut = false;
  return text;
}

}  // namespace parley
