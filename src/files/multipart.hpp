#pragma once
// multipart/form-data (RFC 7578) read from a spooled request body a chunk at a time: the one
// file part is copied to a file as it is read (and hashed), the other parts are small text
// fields kept in memory. Nothing holds the whole body. Malformed input (no or a wrong
// boundary, a truncated body, headers that are too long, a second file) is an invalid_request
// error that says what is wrong.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace parley::files {

struct MultipartLimits {
  std::size_t max_fields = 16;          // text parts
  std::size_t max_field_bytes = 4096;   // of each text part
  std::size_t max_header_bytes = 8192;  // of each part's head
};

struct MultipartFile {
  std::string field;         // the part's name
  std::string filename;      // as the client sent it (not cleaned)
  std::string content_type;  // as the client sent it
  std::uint64_t size = 0;
  std::string sha256;  // hex
};

struct MultipartForm {
  std::map<std::string, std::string, std::less<>> fields;
  std::optional<MultipartFile> file;  // written to the `file_out` path given to read_multipart
};

/// The boundary of a `multipart/form-data; boundary=…` content type, or nullopt.
std::optional<std::string> form_boundary(std::string_view content_type);

/// Reads the form in `body`; the part with a filename goes to `file_out`.
Result<MultipartForm> read_multipart(const std::filesystem::path& body, const std::string& boundary,
                                     const std::filesystem::path& file_out, const MultipartLimits& limits = {});

}  // namespace parley::files
