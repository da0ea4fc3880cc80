#pragma once
// SHA-256 of a stream of bytes (OpenSSL), for the checksums of stored files.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace parley::files {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  /// The digest as 64 lower-case hex digits; the object is spent afterwards.
  std::string hex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

/// The SHA-256 of a file's bytes (hex), read a chunk at a time.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace parley::files
