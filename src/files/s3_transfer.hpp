#pragma once
// One S3 request over libcurl, signed by libcurl's SigV4 (CURLOPT_AWS_SIGV4) with the
// x-amz-content-sha256 header every S3 request needs: the hex SHA-256 of an in-memory body, or
// UNSIGNED-PAYLOAD for a body streamed from a file. Internal to files/ (s3_storage.cpp).
// Thread-safe: each thread keeps its own libcurl handle (and so its own connections).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace parley::files::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string sigv4;  // "aws:amz:<region>:s3"
};

/// A byte range of an open file, sent as the request body.
struct FileRange {
  int fd = -1;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;
};

struct Request {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string url;     // path and query already in canonical form (encoded, query sorted)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                                 // sent when `upload` is unset (PUT/POST)
  const FileRange* upload = nullptr;                // streamed body
  const std::filesystem::path* download = nullptr;  // a 2xx response body goes here (truncated)
  std::chrono::milliseconds timeout{120000};
};

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;                                          // the body unless it went to `download` (bounded)
  std::string header(std::string_view name) const;
};

/// Performs the request. Errors: unavailable when no response came (connection, timeout),
/// internal for local failures (the download file). Any HTTP status is a Response.
Result<Response> perform(const Credentials& creds, const Request& request);

/// An Error for a non-2xx response: not_found for 404, unavailable for 5xx (and 429/503
/// slow-downs), internal otherwise; the message names `what` and carries S3's <Code> and
/// <Message> from the XML body when there is one.
Error error_of(const Response& r, const std::string& what);

/// The text of the first <tag>…</tag> in an XML body ("" when absent); entities decoded.
std::string xml_value(std::string_view xml, std::string_view tag);

}  // namespace parley::files::s3
