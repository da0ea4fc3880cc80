#pragma once
// AWS Signature Version 4 for query-string presigned URLs (docs/files.md, "Storage"): the
// canonical request, the string to sign, the derived key and the signature, over core/crypto's
// SHA-256 and HMAC. Requests Parley sends itself are signed by libcurl (s3_storage.cpp); these
// are the URLs clients use without Parley's credentials. Pure functions, thread-safe.
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::files::sigv4 {

/// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ kept, every other byte as
/// %XX (upper-case hex); '/' kept when `keep_slash` (an object key in a path).
std::string uri_encode(std::string_view s, bool keep_slash);

/// "20130524T000000Z" (UTC, whole seconds).
std::string amz_date(std::chrono::system_clock::time_point t);

/// The signing key: HMAC chain over "AWS4" + secret, the date (YYYYMMDD), region, service and
/// "aws4_request".
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

struct PresignInput {
  std::string method;  // "GET", "PUT"
  std::string scheme;  // "http" or "https"
  std::string host;    // exactly as the client will send it in Host: ("127.0.0.1:4569", "b.s3.amazonaws.com")
  std::string path;    // the canonical URI, already encoded ("/bucket/app/file")
  std::vector<std::pair<std::string, std::string>> query;    // extra parameters, not encoded
  std::vector<std::pair<std::string, std::string>> headers;  // signed besides host (any case)
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::string service = "s3";
  std::chrono::system_clock::time_point now;
  std::chrono::seconds expires{3600};
};

/// The canonical request of a presigned URL (exposed for tests).
std::string canonical_request(const PresignInput& in);
/// scheme://host/path?<canonical query with X-Amz-Signature appended>.
std::string presign_url(const PresignInput& in);

}  // namespace parley::files::sigv4
