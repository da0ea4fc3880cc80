#pragma once
// Message texts for benchmarks that index words: a fixed vocabulary of made-up words (syllables,
// so the same seed always gives the same words) drawn with a Zipf distribution, as words of a
// natural language are: a few very common ones, a long tail of rare ones. Header-only.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace parley::bench {

class Corpus {
 public:
  explicit Corpus(std::size_t words = 50000, double exponent = 1.07) {
    static const char* kSyllables[] = {"ka", "lo", "mi", "ra", "te",  "so",  "vu",  "ne",  "di", "pa", "shi", "gor",
                                       "an", "el", "ix", "um", "tra", "ble", "qua", "zen", "fo", "ri", "ma",  "tu"};
    constexpr std::size_t kN = sizeof kSyllables / sizeof *kSyllables;
    words_.reserve(words);
    std::vector<std::size_t> digits{0};
    while (words_.size() < words) {
      std::string w;
      for (auto d : digits) w += kSyllables[d];
      words_.push_back(std::move(w));
      for (std::size_t i = 0;; ++i) {  // the next combination, shortest first
        if (i == digits.size()) {
          digits.push_back(0);
          break;
        }
        if (++digits[i] < kN) break;
        digits[i] = 0;
      }
    }
    cumulative_.reserve(words);
    double sum = 0;
    for (std::size_t r = 1; r <= words; ++r) {
      sum += 1.0 / std::pow(static_cast<double>(r), exponent);
      cumulative_.push_back(sum);
    }
    for (auto& c : cumulative_) c /= sum;
  }

  /// The word of this frequency rank (0: the most common).
  const std::string& word(std::size_t rank) const { return words_[rank]; }
  std::size_t size() const { return words_.size(); }

  std::size_t draw_rank(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), u);
    return std::min(static_cast<std::size_t>(it - cumulative_.begin()), words_.size() - 1);
  }

  /// A message of about `bytes` bytes of words.
  std::string message(std::mt19937_64& rng, std::size_t bytes) const {
    std::string out;
    while (out.size() < bytes) {
      if (!out.empty()) out.push_back(' ');
      out += words_[draw_rank(rng)];
    }
    return out;
  }

 private:
  std::vector<std::string> words_;
  std::vector<double> cumulative_;
};

}  // namespace parley::bench
