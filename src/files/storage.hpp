#pragma once
// Where file bytes live (docs/files.md, "Storage"): a folder under the data dir (the default)
// or an S3-compatible bucket. Keys are made by Parley only ("<app_id>/<file_id>" and
// "<app_id>/<file_id>.<variant>", ids of [A-Za-z0-9_-]), never from user input, so no key can
// name a path outside the store. Every call blocks (run it on a worker thread, never a network
// thread) and is thread-safe.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace parley::files {

struct ObjectInfo {
  std::uint64_t size = 0;
  std::string content_type;  // as stored ("" when the store keeps none)
};

/// A URL a client may use without Parley's credentials, until `expires_at` (ms since epoch).
struct SignedUrl {
  std::string method;  // "GET" or "PUT"
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // the client must send these too
  std::int64_t expires_at = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;
  /// "local" or "s3".
  virtual std::string kind() const = 0;
  /// For /health/detailed: the folder or endpoint/bucket (never credentials).
  virtual std::string describe() const = 0;
  /// Reachable and writable (local: the folder exists; S3: HEAD bucket answers 200).
  virtual Result<Unit> check() = 0;

  /// Stores the file at `src` under `key` (local: renames when on the same file system, else
  /// copies; S3: PUT, or a multipart upload for large files, streamed from disk). `src` is left
  /// in place or removed, whichever the store did; callers delete it afterwards if it exists.
  virtual Result<Unit> put_file(const std::string& key, const std::filesystem::path& src,
                                const std::string& content_type) = 0;
  /// Copies the object to `dest` (created or truncated), streamed.
  virtual Result<Unit> get_to_file(const std::string& key, const std::filesystem::path& dest) = 0;
  /// Size (and type) of a stored object; not_found when there is none.
  virtual Result<ObjectInfo> stat(const std::string& key) = 0;
  /// Removes the object; removing a missing object is not an error.
  virtual Result<Unit> remove(const std::string& key) = 0;

  /// The local path of an object (local store only; std::nullopt for S3).
  virtual std::optional<std::filesystem::path> local_path(const std::string& key) const = 0;
  /// S3 only (std::nullopt for local): a presigned GET whose response carries these headers
  /// (response-content-type, response-content-disposition), valid for `ttl`.
  virtual std::optional<SignedUrl> presign_get(const std::string& key, const std::string& content_type,
                                               const std::string& content_disposition,
                                               std::chrono::seconds ttl) const = 0;
  /// S3 only: a presigned PUT of exactly `size` bytes of `content_type`, valid for `ttl`.
  virtual std::optional<SignedUrl> presign_put(const std::string& key, std::uint64_t size,
                                               const std::string& content_type, std::chrono::seconds ttl) const = 0;
};

/// The local store: objects as files under `root` (created if missing).
std::unique_ptr<Storage> make_local_storage(std::filesystem::path root);

struct S3Options {
  std::string endpoint;  // "http://127.0.0.1:4569" or "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  std::string access_key;
  std::string secret_key;
  bool path_style = true;                           // endpoint/bucket/key, else bucket.endpoint/key
  std::uint64_t multipart_threshold = 16ull << 20;  // files at least this big go in parts
  std::uint64_t part_size = 8ull << 20;             // ≥ 5 MiB (S3's minimum but for the last)
  std::chrono::milliseconds timeout{120000};        // one request
};

/// The S3-compatible store (AWS Signature V4, libcurl).
std::unique_ptr<Storage> make_s3_storage(S3Options opts);

}  // namespace parley::files
