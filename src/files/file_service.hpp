#pragma once
// Files (docs/files.md): uploads (through Parley from a spooled multipart body, or straight to
// the storage and then completed), the checks an upload passes (sniffed type, per-app size,
// types and quota), thumbnails of images, who may see a file, signed URLs, message
// attachments, avatars and channel images, and the clean-up of files nothing uses.
//
// Every method blocks on the database, the storage and the disk: call it from a files worker
// (never a network thread). Thread-safe.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "core/error.hpp"
#include "core/time.hpp"
#include "files/images.hpp"
#include "files/storage.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::store::sql {
class Database;
}

namespace parley::files {

struct FilesOptions {
  std::uint64_t max_bytes = std::uint64_t{100} << 20;  // the server's upload limit
  std::chrono::seconds url_ttl{3600};
  std::chrono::seconds orphan_ttl{86400};
  std::chrono::seconds pending_ttl{3600};  // direct uploads not completed within this are removed
  std::filesystem::path work_dir;          // temporary files (same file system as the spool)
  ImageLimits images;
};

enum class Purpose { attachment, avatar, channel_image };
std::optional<Purpose> parse_purpose(std::string_view s);
std::string_view purpose_name(Purpose p);

struct FileRecord {
  std::string app_id;
  std::string id;
  Purpose purpose = Purpose::attachment;
  std::string uploader_id;
  std::string name;
  std::string content_type;
  std::string declared_type;
  std::uint64_t size = 0;
  std::string sha256;
  bool ready = false;
  std::uint64_t stored_bytes = 0;
  std::optional<std::string> image_json;  // {"width","height","blurhash"}
  std::string variants_json = "[]";       // [{"name","content_type","width","height","size"}]
  std::optional<std::string> channel_id;
  std::optional<std::int64_t> message_seq;
  TimeMs created_at = 0;
  std::optional<TimeMs> attached_at;

  bool is_public() const { return purpose != Purpose::attachment; }
  bool has_variant(std::string_view name) const;
};

/// A direct upload's target: the file (pending) and where to PUT its bytes.
struct PendingUpload {
  FileRecord file;
  SignedUrl upload;
};

/// What GET …/content serves: a local file range, or a redirect to a presigned URL.
struct Content {
  std::optional<std::filesystem::path> path;  // local store
  std::optional<std::string> redirect;        // S3
  std::string content_type;
  std::string disposition;  // the whole Content-Disposition value
  std::string etag;         // quoted
  std::uint64_t size = 0;
};

/// A message's attachments after resolve_attachments: the JSON to store and the files it names.
struct ResolvedAttachments {
  std::string json;
  std::vector<std::string> file_ids;
};

class FileService {
 public:
  /// Whether `user_id` of `app` may read channel `channel_id` (a member, or a public channel).
  using CanRead =
      std::function<bool(const tenancy::App& app, const std::string& user_id, const std::string& channel_id)>;

  FileService(store::sql::Database& db, Storage& storage, FilesOptions opts);

  /// Loads (or creates, once per database) the key signing local URLs. Call before serving.
  Status init();
  void set_can_read(CanRead f) { can_read_ = std::move(f); }
  Storage& storage() { return storage_; }
  const FilesOptions& options() const { return opts_; }
  /// The body limit of an upload through Parley (the server's; apps may only lower it).
  std::uint64_t max_upload_bytes() const { return opts_.max_bytes; }

  /// POST /v1/files: the spooled multipart body `spool` of content type `content_type`.
  Result<FileRecord> upload_form(const tenancy::App& app, const std::string& user_id, const std::string& spool,
                                 const std::string& content_type);
  /// POST /v1/files/uploads: a pending file and the signed PUT for its bytes (`base`: the
  /// server's public URL, for the local store's upload endpoint).
  Result<PendingUpload> create_upload(const tenancy::App& app, const std::string& user_id, const std::string& name,
                                      std::uint64_t size, const std::string& declared_type, Purpose purpose,
                                      const std::string& base);
  /// PUT /v1/files/{id}/upload (local store): checks the signature and stores the spooled body.
  Status receive_upload(const std::string& app_id, const std::string& id, std::int64_t exp, const std::string& sig,
                        const std::string& spool);
  /// POST /v1/files/{id}/complete: checks, sniffs, hashes and thumbnails what was uploaded.
  Result<FileRecord> complete(const tenancy::App& app, const std::string& user_id, const std::string& id);

  /// A file the caller may see (not_found otherwise, also for other apps' ids).
  Result<FileRecord> get(const tenancy::App& app, const std::string& user_id, const std::string& id);
  /// The ones of `ids` the caller may see, in the order asked.
  Result<std::vector<FileRecord>> get_many(const tenancy::App& app, const std::string& user_id,
                                           const std::vector<std::string>& ids);
  /// DELETE /v1/files/{id}: the uploader's own file that no message references.
  Status remove(const tenancy::App& app, const std::string& user_id, const std::string& id);

  /// The JSON of a file for its API, with URLs signed now (`base`: the server's public URL).
  boost::json::object to_json(const FileRecord& f, const std::string& base) const;
  /// GET /v1/files/{id}/content: checks the signature (not needed for avatars and channel
  /// images) and says what to serve; forbidden for a bad or expired signature.
  Result<Content> content(const std::string& app_id, const std::string& id, const std::string& variant,
                          std::optional<std::int64_t> exp, const std::string& sig, bool download);

  /// Replaces `{"file_id"}` items of a message's attachments with what Parley knows of them;
  /// the sender must have uploaded them, ready, not attached to another message (the same
  /// message, when editing `seq`, is fine; so is the message this sender sent before with the
  /// same `client_msg_id`, a retried send). Other attachment objects stay as they are.
  Result<ResolvedAttachments> resolve_attachments(const tenancy::App& app, const std::string& user_id,
                                                  const std::string& channel_id, const std::string& attachments_json,
                                                  std::optional<std::int64_t> seq = std::nullopt,
                                                  const std::optional<std::string>& client_msg_id = std::nullopt);
  /// After the message committed: its files are attached to it (channel, seq); with `exact`,
  /// files of an earlier version of it that it no longer names are released.
  Status attach(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                const std::vector<std::string>& file_ids, bool exact = true);
  /// A message was deleted: its files go (bytes, thumbnails, row).
  Status release_message(const std::string& app_id, const std::string& channel_id, std::int64_t seq);
  /// A channel was deleted: every file of its messages goes.
  Status release_channel(const std::string& app_id, const std::string& channel_id);
  /// The stable URL of an uploaded avatar / channel image the caller may use as such.
  Result<std::string> image_url(const tenancy::App& app, const std::string& user_id, const std::string& file_id,
                                Purpose purpose, const std::string& base);
  /// The image is in use now by `owner` (the user for an avatar, the channel for a channel
  /// image) and kept by cleanup; the one it replaced (`previous_url`, when it was one of this
  /// app's files of that purpose and the same owner) is released.
  Status image_used(const tenancy::App& app, const std::string& file_id, Purpose purpose, const std::string& owner,
                    const std::string& previous_url);

  /// The storage keys of every object of an app (originals and thumbnails): read them before
  /// the app is deleted (its rows go with it), remove them with remove_objects() after.
  Result<std::vector<std::string>> object_keys_of_app(const std::string& app_id);
  /// Removes these objects from the storage; the first failure is returned, after trying all.
  Status remove_objects(const std::vector<std::string>& keys);

  /// The files.cleanup job: removes files nothing uses (see docs/files.md); returns how many.
  Result<int> cleanup(TimeMs now, int limit);

 private:
  Result<std::optional<FileRecord>> find(const std::string& app_id, const std::string& id);
  bool visible(const tenancy::App& app, const std::string& user_id, const FileRecord& f) const;
  Status check_limits(const tenancy::App& app, std::uint64_t size) const;
  Status check_type(const tenancy::App& app, const std::string& sniffed) const;
  Status check_quota(const tenancy::App& app, std::uint64_t more);
  /// Sniffs, hashes (unless `sha256` is given), makes thumbnails and stores `local` as file `f`.
  Result<FileRecord> finish(const tenancy::App& app, FileRecord f, const std::filesystem::path& local,
                            std::optional<std::string> sha256);
  Status release(const FileRecord& f);
  std::string sign(std::string_view what) const;
  std::string content_url(const FileRecord& f, std::string_view variant, const std::string& base, TimeMs exp) const;
  std::filesystem::path temp_path(std::string_view tag) const;

  store::sql::Database& db_;
  Storage& storage_;
  const FilesOptions opts_;
  CanRead can_read_;     // set before serving
  std::string url_key_;  // set by init(), read-only after
};

/// A client's file name made safe to keep and to show: no path, no control characters, NUL,
/// bidirectional overrides or invisible formatting, valid UTF-8, at most 255 bytes; "file" when
/// nothing is left.
std::string clean_filename(std::string_view name);
/// A Content-Disposition header value (inline or attachment) with an ASCII `filename` and an
/// RFC 5987 `filename*`.
std::string content_disposition(bool inline_, const std::string& name);
/// The MIME type of a file's bytes (libmagic), "application/octet-stream" when unknown.
std::string sniff_type(const std::filesystem::path& path);

}  // namespace parley::files
