#include "files/file_service.hpp"

#include <magic.h>
#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <system_error>

#include "core/crypto.hpp"
#include "files/checksum.hpp"
#include "files/multipart.hpp"
#include "store/sql/database.hpp"

namespace parley::files {

namespace fs = std::filesystem;
namespace json = boost::json;
using store::sql::Connection;
using store::sql::Statement;
using store::sql::Transaction;

namespace {

constexpr const char* kColumns =
    "app_id, id, purpose, uploader_id, name, content_type, declared_type, size, sha256, state, stored_bytes, image, "
    "variants, channel_id, message_seq, created_at, attached_at";
constexpr std::size_t kMaxName = 255;
constexpr std::size_t kMaxType = 100;
constexpr std::chrono::seconds kUploadUrlTtl{900};
constexpr std::chrono::seconds kRedirectTtl{300};

FileRecord read_row(const Statement& st) {
  FileRecord f;
  f.app_id = st.text(0);
  f.id = st.text(1);
  f.purpose = parse_purpose(st.text(2)).value_or(Purpose::attachment);
  f.uploader_id = st.text(3);
  f.name = st.text(4);
  f.content_type = st.text(5);
  f.declared_type = st.text(6);
  f.size = static_cast<std::uint64_t>(st.int64(7));
  f.sha256 = st.text(8);
  f.ready = st.text(9) == "ready";
  f.stored_bytes = static_cast<std::uint64_t>(st.int64(10));
  f.image_json = st.opt_text(11);
  f.variants_json = st.text(12);
  f.channel_id = st.opt_text(13);
  f.message_seq = st.opt_int64(14);
  f.created_at = st.int64(15);
  f.attached_at = st.opt_int64(16);
  return f;
}

std::string object_key(const FileRecord& f, std::string_view variant = {}) {
  std::string k = f.app_id + "/" + f.id;
  if (!variant.empty()) {
    k += '.';
    k += variant;
  }
  return k;
}

json::array variants_of(const FileRecord& f) {
  boost::system::error_code ec;
  auto v = json::parse(f.variants_json, ec);
  return !ec && v.is_array() ? v.as_array() : json::array{};
}

std::string pct(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool type_matches(std::string_view pattern, std::string_view type) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    return type.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  }
  return pattern == type;
}

// Shown in the browser: images (not SVG, which runs scripts), audio, video, PDF.
bool inline_type(std::string_view t) {
  if (t == "image/svg+xml") return false;
  return t.starts_with("image/") || t.starts_with("audio/") || t.starts_with("video/") || t == "application/pdf";
}

// Decodes one UTF-8 code point at s[i]; returns its length, 0 for an invalid sequence.
std::size_t decode_utf8(std::string_view s, std::size_t i, char32_t& cp) {
  auto b = static_cast<unsigned char>(s[i]);
  std::size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;  // overlong, surrogate
  return len;
}

bool invisible(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff;
}

// The ETag of an object: its checksum (and variant), quoted.
std::string etag_of(const FileRecord& f, std::string_view variant) {
  return "\"" + f.sha256 + (variant.empty() ? "" : "-" + std::string(variant)) + "\"";
}

Error file_not_found() { return not_found("file"); }

// A temporary file or folder, removed (with what it holds) when the scope ends.
struct RemovedAtExit {
  fs::path p;
  explicit RemovedAtExit(fs::path path) : p(std::move(path)) {}
  RemovedAtExit(const RemovedAtExit&) = delete;
  RemovedAtExit& operator=(const RemovedAtExit&) = delete;
  ~RemovedAtExit() {
    std::error_code ec;
    fs::remove_all(p, ec);
  }
};

}  // namespace

std::optional<Purpose> parse_purpose(std::string_view s) {
  if (s == "attachment") return Purpose::attachment;
  if (s == "avatar") return Purpose::avatar;
  if (s == "channel_image") return Purpose::channel_image;
  return std::nullopt;
}

std::string_view purpose_name(Purpose p) {
  switch (p) {
    case Purpose::avatar: return "avatar";
    case Purpose::channel_image: return "channel_image";
    case Purpose::attachment: break;
  }
  return "attachment";
}

bool FileRecord::has_variant(std::string_view name) const {
  for (const auto& v : variants_of(*this)) {
    if (v.is_object() && v.as_object().contains("name") && v.as_object().at("name").is_string() &&
        v.as_object().at("name").as_string() == name) {
      return true;
    }
  }
  return false;
}

std::string clean_filename(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    std::size_t len = decode_utf8(name, i, cp);
    if (len == 0) {  // not UTF-8: left out
      ++i;
      continue;
    }
    if (cp == '/' || cp == '\\') {
      out.push_back('_');
    } else if (!invisible(cp)) {
      if (out.size() + len > kMaxName) break;
      out.append(name.substr(i, len));
    }
    i += len;
  }
  // No hidden or parent-directory names, no surrounding blanks.
  while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(0, 1);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "file" : out;
}

std::string content_disposition(bool inline_, const std::string& name) {
  std::string ascii;
  for (unsigned char c : name) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != ';' && c != '%') {
      ascii.push_back(static_cast<char>(c));
    } else if (c < 0x80 || (c & 0xc0) == 0xc0) {
      ascii.push_back('_');  // one '_' per character, not per byte
    }
  }
  if (ascii.empty()) ascii = "file";
  return std::string(inline_ ? "inline" : "attachment") + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + pct(name);
}

std::string sniff_type(const fs::path& path) {
  struct Cookie {
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    bool loaded = m && magic_load(m, nullptr) == 0;
    ~Cookie() {
      if (m) magic_close(m);
    }
    Cookie() = default;
    Cookie(const Cookie&) = delete;
    Cookie& operator=(const Cookie&) = delete;
  };
  thread_local Cookie cookie;  // libmagic handles are not shared between threads
  if (!cookie.loaded) return "application/octet-stream";
  const char* t = magic_file(cookie.m, path.c_str());
  if (!t || !*t) return "application/octet-stream";
  std::string type(t);
  if (type == "application/x-empty" || type.find('/') == std::string::npos) return "application/octet-stream";
  return type;
}

FileService::FileService(store::sql::Database& db, Storage& storage, FilesOptions opts)
    : db_(db), storage_(storage), opts_(std::move(opts)) {
  std::error_code ec;
  fs::create_directories(opts_.work_dir, ec);
}

Status FileService::init() {
  auto key = db_.with_conn([&](Connection& c) -> Result<std::string> {
    auto put = c.prepare("INSERT INTO meta(key, value) VALUES('files_url_key', $1) ON CONFLICT (key) DO NOTHING");
    put->bind(1, crypto::to_hex(crypto::random_bytes(32))).run();
    auto get = c.prepare("SELECT value FROM meta WHERE key = 'files_url_key'");
    if (!get->step()) return Error{Errc::internal, "files: no URL signing key"};
    return get->text(0);
  });
  if (!key) return std::move(key).error();
  url_key_ = std::move(*key);
  return ok_status();
}

fs::path FileService::temp_path(std::string_view tag) const {
  return opts_.work_dir / (std::string(tag) + "-" + crypto::random_id("", 20));
}

std::string FileService::sign(std::string_view what) const {
  return crypto::to_hex(crypto::hmac_sha256(url_key_, what));
}

Result<std::optional<FileRecord>> FileService::find(const std::string& app_id, const std::string& id) {
  return db_.with_conn([&](Connection& c) -> Result<std::optional<FileRecord>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns + " FROM files WHERE app_id = $1 AND id = $2");
    st->bind(1, app_id).bind(2, id);
    if (!st->step()) return std::optional<FileRecord>{};
    return std::optional<FileRecord>{read_row(*st)};
  });
}

bool FileService::visible(const tenancy::App& app, const std::string& user_id, const FileRecord& f) const {
  if (f.uploader_id == user_id || f.is_public()) return true;
  return f.channel_id && f.attached_at && can_read_ && can_read_(app, user_id, *f.channel_id);
}

Status FileService::check_limits(const tenancy::App& app, std::uint64_t size) const {
  std::uint64_t limit = opts_.max_bytes;
  if (app.settings.files_max_bytes > 0)
    limit = std::min(limit, static_cast<std::uint64_t>(app.settings.files_max_bytes));
  if (size == 0) return violates("file", "is empty");
  if (size > limit) {
    return Error{Errc::payload_too_large,
                 "the file is larger than this app's limit of " + std::to_string(limit) + " bytes"}
        .with("limit", std::to_string(limit));
  }
  return ok_status();
}

Status FileService::check_type(const tenancy::App& app, const std::string& sniffed) const {
  const auto& allowed = app.settings.files_allowed_types;
  if (allowed.empty()) return ok_status();
  for (const auto& p : allowed) {
    if (type_matches(p, sniffed)) return ok_status();
  }
  return Error{Errc::unsupported_media_type, "files of type " + sniffed + " are not allowed in this app"}.with(
      "content_type", sniffed);
}

Status FileService::check_quota(const tenancy::App& app, std::uint64_t more) {
  if (app.settings.files_quota_bytes <= 0) return ok_status();
  PARLEY_ASSIGN_OR_RETURN(auto used, db_.with_conn([&](Connection& c) -> Result<std::int64_t> {
    auto st = c.prepare("SELECT COALESCE(SUM(stored_bytes), 0) FROM files WHERE app_id = $1");
    st->bind(1, app.id);
    st->step();
    return st->int64(0);
  }));
  if (static_cast<std::uint64_t>(used) + more > static_cast<std::uint64_t>(app.settings.files_quota_bytes)) {
    return Error{Errc::conflict,
                 "the app's file quota of " + std::to_string(app.settings.files_quota_bytes) + " bytes is used up"}
        .with("reason", "quota");
  }
  return ok_status();
}

Result<FileRecord> FileService::upload_form(const tenancy::App& app, const std::string& user_id,
                                            const std::string& spool, const std::string& content_type) {
  auto boundary = form_boundary(content_type);
  if (!boundary) {
    return Error{Errc::unsupported_media_type, "the body must be multipart/form-data with a boundary"};
  }
  auto local = temp_path("form");
  RemovedAtExit remove_local{local};
  PARLEY_ASSIGN_OR_RETURN(auto form, read_multipart(spool, *boundary, local));
  if (!form.file) return invalid("file", "is required: a part with a filename");
  if (form.file->field != "file") return invalid("file", "the file part must be named 'file'");
  Purpose purpose = Purpose::attachment;
  if (auto it = form.fields.find("purpose"); it != form.fields.end()) {
    auto p = parse_purpose(it->second);
    if (!p) return violates("purpose", "must be attachment, avatar or channel_image");
    purpose = *p;
  }
  PARLEY_TRY(check_limits(app, form.file->size));
  FileRecord f;
  f.app_id = app.id;
  f.id = crypto::random_id("f_", 22);
  f.purpose = purpose;
  f.uploader_id = user_id;
  f.name = clean_filename(form.file->filename);
  f.declared_type = form.file->content_type.substr(0, kMaxType);
  f.size = form.file->size;
  f.created_at = now_ms();
  return finish(app, std::move(f), local, form.file->sha256);
}

Result<FileRecord> FileService::finish(const tenancy::App& app, FileRecord f, const fs::path& local,
                                       std::optional<std::string> sha256) {
  f.content_type = sniff_type(local);
  PARLEY_TRY(check_type(app, f.content_type));
  auto work = temp_path("img");
  RemovedAtExit remove_work{work};
  std::error_code ec;
  fs::create_directories(work, ec);
  PARLEY_ASSIGN_OR_RETURN(auto image, process_image(local, f.content_type, work, opts_.images));
  if (f.purpose != Purpose::attachment && !image)
    return violates("file", "an avatar or channel image must be an image");
  json::array variants;
  std::uint64_t stored = 0;
  if (image) {
    if (image->rewritten_original) {  // metadata stripped: new bytes, new checksum
      f.size = fs::file_size(local, ec);
      sha256.reset();
    }
    f.image_json = json::serialize(
        json::object{{"width", image->width}, {"height", image->height}, {"blurhash", image->blurhash}});
    for (const auto& v : image->variants) {
      variants.push_back(json::object{{"name", v.name},
                                      {"content_type", v.content_type},
                                      {"width", v.width},
                                      {"height", v.height},
                                      {"size", v.size}});
      stored += v.size;
    }
  }
  if (!sha256) {
    PARLEY_ASSIGN_OR_RETURN(auto h, sha256_file(local));
    sha256 = std::move(h);
  }
  f.sha256 = *sha256;
  f.variants_json = json::serialize(variants);
  stored += f.size;
  // A pending upload's size was counted already.
  PARLEY_TRY(check_quota(app, f.ready || f.stored_bytes == 0 ? stored : stored - std::min(stored, f.stored_bytes)));
  f.stored_bytes = stored;

  std::vector<std::string> put;
  auto undo = [&] {
    for (const auto& k : put) (void)storage_.remove(k);
  };
  if (auto r = storage_.put_file(object_key(f), local, f.content_type); !r) return std::move(r).error();
  put.push_back(object_key(f));
  if (image) {
    for (const auto& v : image->variants) {
      if (auto r = storage_.put_file(object_key(f, v.name), v.path, v.content_type); !r) {
        undo();
        return std::move(r).error();
      }
      put.push_back(object_key(f, v.name));
    }
  }
  f.ready = true;
  auto saved = db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(std::string("INSERT INTO files(") + kColumns +
                        ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ready', $10, $11, $12, NULL, NULL, $13, NULL) "
                        "ON CONFLICT (app_id, id) DO UPDATE SET content_type = excluded.content_type, size = "
                        "excluded.size, sha256 = excluded.sha256, state = 'ready', stored_bytes = "
                        "excluded.stored_bytes, image = excluded.image, variants = excluded.variants");
    st->bind(1, f.app_id).bind(2, f.id).bind(3, purpose_name(f.purpose)).bind(4, f.uploader_id).bind(5, f.name);
    st->bind(6, f.content_type).bind(7, f.declared_type).bind(8, static_cast<std::int64_t>(f.size)).bind(9, f.sha256);
    st->bind(10, static_cast<std::int64_t>(f.stored_bytes)).bind(11, f.image_json).bind(12, f.variants_json);
    st->bind(13, f.created_at).run();
    return ok_status();
  });
  if (!saved) {
    undo();
    return std::move(saved).error();
  }
  return f;
}

Result<PendingUpload> FileService::create_upload(const tenancy::App& app, const std::string& user_id,
                                                 const std::string& name, std::uint64_t size,
                                                 const std::string& declared_type, Purpose purpose,
                                                 const std::string& base) {
  PARLEY_TRY(check_limits(app, size));
  PARLEY_TRY(check_quota(app, size));
  FileRecord f;
  f.app_id = app.id;
  f.id = crypto::random_id("f_", 22);
  f.purpose = purpose;
  f.uploader_id = user_id;
  f.name = clean_filename(name);
  f.declared_type = declared_type.empty() ? "application/octet-stream" : declared_type;
  f.size = size;
  f.stored_bytes = size;
  f.created_at = now_ms();
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    auto st =
        c.prepare(std::string("INSERT INTO files(") + kColumns +
                  ") VALUES($1, $2, $3, $4, $5, '', $6, $7, '', 'pending', $8, NULL, '[]', NULL, NULL, $9, NULL)");
    st->bind(1, f.app_id).bind(2, f.id).bind(3, purpose_name(f.purpose)).bind(4, f.uploader_id).bind(5, f.name);
    st->bind(6, f.declared_type).bind(7, static_cast<std::int64_t>(size)).bind(8, static_cast<std::int64_t>(size));
    st->bind(9, f.created_at).run();
    return ok_status();
  }));
  PendingUpload out{f, {}};
  if (auto s3 = storage_.presign_put(object_key(f), size, f.declared_type, kUploadUrlTtl)) {
    out.upload = std::move(*s3);
  } else {
    std::int64_t exp = f.created_at / 1000 + kUploadUrlTtl.count();
    auto sig = sign("put\n" + f.app_id + "\n" + f.id + "\n" + std::to_string(size) + "\n" + std::to_string(exp));
    out.upload.method = "PUT";
    out.upload.url =
        base + "/v1/files/" + f.id + "/upload?app=" + pct(f.app_id) + "&exp=" + std::to_string(exp) + "&sig=" + sig;
    out.upload.headers = {{"content-type", f.declared_type}};
    out.upload.expires_at = exp * 1000;
  }
  return out;
}

Status FileService::receive_upload(const std::string& app_id, const std::string& id, std::int64_t exp,
                                   const std::string& sig, const std::string& spool) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app_id, id));
  auto expected =
      found ? sign("put\n" + app_id + "\n" + id + "\n" + std::to_string(found->size) + "\n" + std::to_string(exp))
            : std::string();
  if (!found || !crypto::constant_time_equal(expected, sig)) {
    return Error{Errc::forbidden, "the upload URL's signature is not valid"};
  }
  if (exp * 1000 < now_ms()) return Error{Errc::forbidden, "the upload URL has expired"};
  if (found->ready) return Error{Errc::conflict, "the file is complete already"};
  std::error_code ec;
  auto got = fs::file_size(spool, ec);
  if (ec || got != found->size) {
    return violates("body", "expected " + std::to_string(found->size) + " bytes, got " + std::to_string(got));
  }
  return storage_.put_file(object_key(*found), spool, found->declared_type);
}

Result<FileRecord> FileService::complete(const tenancy::App& app, const std::string& user_id, const std::string& id) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, id));
  if (!found || found->uploader_id != user_id) return file_not_found();
  if (found->ready) return *found;
  auto info = storage_.stat(object_key(*found));
  if (!info) {
    if (info.error().code == Errc::not_found) return violates("file", "nothing was uploaded for this file yet");
    return std::move(info).error();
  }
  if (info->size != found->size) {
    (void)storage_.remove(object_key(*found));
    return violates("file", "the upload has " + std::to_string(info->size) + " bytes, not the " +
                                std::to_string(found->size) + " announced; upload it again");
  }
  auto local = temp_path("done");
  RemovedAtExit remove_local{local};
  PARLEY_TRY(storage_.get_to_file(object_key(*found), local));
  auto done = finish(app, *found, local, std::nullopt);
  if (!done && (done.error().code == Errc::unsupported_media_type || done.error().code == Errc::validation_failed)) {
    (void)release(*found);  // refused for good: the bytes and the row go
  }
  return done;
}

Result<FileRecord> FileService::get(const tenancy::App& app, const std::string& user_id, const std::string& id) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, id));
  if (!found || !visible(app, user_id, *found)) return file_not_found();
  return *found;
}

Result<std::vector<FileRecord>> FileService::get_many(const tenancy::App& app, const std::string& user_id,
                                                      const std::vector<std::string>& ids) {
  std::vector<FileRecord> out;
  for (const auto& id : ids) {
    PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, id));
    if (found && visible(app, user_id, *found)) out.push_back(std::move(*found));
  }
  return out;
}

Status FileService::remove(const tenancy::App& app, const std::string& user_id, const std::string& id) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, id));
  if (!found || found->uploader_id != user_id) return file_not_found();
  if (found->message_seq) {
    return Error{Errc::conflict, "a message references this file; delete or edit the message instead"};
  }
  if (found->is_public() && found->attached_at) {
    return Error{Errc::conflict, "this image is in use as an avatar or channel image; set another one instead"};
  }
  return release(*found);
}

Status FileService::release(const FileRecord& f) {
  for (const auto& v : variants_of(f)) {
    if (v.is_object() && v.as_object().contains("name") && v.as_object().at("name").is_string()) {
      PARLEY_TRY(storage_.remove(object_key(f, std::string(v.as_object().at("name").as_string()))));
    }
  }
  PARLEY_TRY(storage_.remove(object_key(f)));
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("DELETE FROM files WHERE app_id = $1 AND id = $2");
    st->bind(1, f.app_id).bind(2, f.id).run();
    return ok_status();
  });
}

std::string FileService::content_url(const FileRecord& f, std::string_view variant, const std::string& base,
                                     TimeMs exp) const {
  std::string url = base + "/v1/files/" + f.id + "/content?app=" + pct(f.app_id);
  if (!variant.empty()) url += "&v=" + std::string(variant);
  if (f.is_public()) return url;
  auto e = std::to_string(exp / 1000);
  return url + "&exp=" + e + "&sig=" + sign("get\n" + f.app_id + "\n" + f.id + "\n" + std::string(variant) + "\n" + e);
}

json::object FileService::to_json(const FileRecord& f, const std::string& base) const {
  json::object o{{"id", f.id},
                 {"purpose", purpose_name(f.purpose)},
                 {"name", f.name},
                 {"content_type", f.ready ? f.content_type : f.declared_type},
                 {"size", f.size},
                 {"sha256", f.ready ? json::value(f.sha256) : json::value(nullptr)},
                 {"state", f.ready ? "ready" : "pending"},
                 {"uploader_id", f.uploader_id},
                 {"channel_id", f.channel_id && f.attached_at ? json::value(*f.channel_id) : json::value(nullptr)},
                 {"created_at", format_time(f.created_at)}};
  json::value image = nullptr;
  if (f.image_json) {
    boost::system::error_code ec;
    image = json::parse(*f.image_json, ec);
    if (ec) image = nullptr;
  }
  o["image"] = std::move(image);
  TimeMs exp = (now_ms() / 1000 + opts_.url_ttl.count()) * 1000;
  auto url_of = [&](std::string_view variant, const std::string& type) -> json::value {
    if (!f.ready) return nullptr;
    if (!f.is_public()) {
      auto disposition = content_disposition(inline_type(type), f.name);
      if (auto s3 = storage_.presign_get(object_key(f, variant), type, disposition, opts_.url_ttl))
        return json::value(s3->url);
    }
    return json::value(content_url(f, variant, base, exp));
  };
  json::array variants;
  for (auto v : variants_of(f)) {
    if (!v.is_object()) continue;
    auto& vo = v.as_object();
    std::string name = vo.contains("name") && vo["name"].is_string() ? std::string(vo["name"].as_string()) : "";
    std::string type = vo.contains("content_type") && vo["content_type"].is_string()
                           ? std::string(vo["content_type"].as_string())
                           : "image/webp";
    vo["url"] = url_of(name, type);
    variants.push_back(std::move(v));
  }
  o["variants"] = std::move(variants);
  o["url"] = url_of("", f.content_type);
  o["url_expires_at"] = f.ready && !f.is_public() ? json::value(format_time(exp)) : json::value(nullptr);
  return o;
}

Result<Content> FileService::content(const std::string& app_id, const std::string& id, const std::string& variant,
                                     std::optional<std::int64_t> exp, const std::string& sig, bool download) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app_id, id));
  if (!found || !found->ready) return file_not_found();
  const FileRecord& f = *found;
  if (!f.is_public()) {
    if (!exp || sig.empty()) return Error{Errc::forbidden, "this file's URL needs a signature (exp and sig)"};
    auto expected = sign("get\n" + app_id + "\n" + id + "\n" + variant + "\n" + std::to_string(*exp));
    if (!crypto::constant_time_equal(expected, sig)) return Error{Errc::forbidden, "the URL's signature is not valid"};
    if (*exp * 1000 < now_ms()) return Error{Errc::forbidden, "the URL has expired"};
  }
  Content out;
  out.content_type = f.content_type;
  std::string name = f.name;
  if (!variant.empty()) {
    if (!f.has_variant(variant)) return not_found("variant");
    out.content_type = "image/webp";
    for (const auto& v : variants_of(f)) {
      const auto& vo = v.as_object();
      if (vo.at("name").as_string() == variant && vo.contains("content_type") && vo.at("content_type").is_string()) {
        out.content_type = std::string(vo.at("content_type").as_string());
      }
    }
  }
  out.disposition = content_disposition(!download && inline_type(out.content_type), name);
  out.etag = etag_of(f, variant);
  auto key = object_key(f, variant);
  if (auto p = storage_.local_path(key)) {
    std::error_code ec;
    out.size = fs::file_size(*p, ec);
    if (ec) return not_found("file object");
    out.path = *p;
    return out;
  }
  auto url = storage_.presign_get(key, out.content_type, out.disposition, kRedirectTtl);
  if (!url) return Error{Errc::internal, "the file storage cannot hand out URLs"};
  out.redirect = url->url;
  return out;
}

Result<ResolvedAttachments> FileService::resolve_attachments(const tenancy::App& app, const std::string& user_id,
                                                             const std::string& channel_id,
                                                             const std::string& attachments_json,
                                                             std::optional<std::int64_t> seq,
                                                             const std::optional<std::string>& client_msg_id) {
  ResolvedAttachments out;
  boost::system::error_code ec;
  auto parsed = json::parse(attachments_json, ec);
  if (ec || !parsed.is_array()) return invalid("attachments", "expected an array of objects");
  json::array items;
  for (auto& item : parsed.as_array()) {
    if (!item.is_object() || !item.as_object().contains("file_id")) {
      items.push_back(std::move(item));
      continue;
    }
    const auto& fid = item.as_object().at("file_id");
    if (!fid.is_string() || fid.as_string().empty() || fid.as_string().size() > 64) {
      return invalid("attachments", "file_id must be a file's id");
    }
    std::string id(fid.as_string());
    for (const auto& seen : out.file_ids) {
      if (seen == id) return violates("attachments", "names file " + id + " twice");
    }
    PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, id));
    if (!found || found->uploader_id != user_id) {
      return violates("attachments", "file " + id + " does not exist or was not uploaded by the sender");
    }
    if (!found->ready) return violates("attachments", "file " + id + " is not complete yet");
    if (found->purpose != Purpose::attachment) return violates("attachments", "file " + id + " is not an attachment");
    bool same_message = seq && found->message_seq == seq && found->channel_id == channel_id;
    if (found->message_seq && !same_message && client_msg_id && found->channel_id == channel_id) {
      PARLEY_ASSIGN_OR_RETURN(same_message, db_.with_conn([&](Connection& c) -> Result<bool> {
        auto st = c.prepare(
            "SELECT 1 FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND user_id = $4 AND "
            "client_msg_id = $5");
        st->bind(1, app.id).bind(2, channel_id).bind(3, *found->message_seq).bind(4, user_id).bind(5, *client_msg_id);
        return st->step();
      }));
    }
    if (found->message_seq && !same_message) {
      return violates("attachments", "file " + id + " is attached to another message");
    }
    json::value image = nullptr;
    if (found->image_json) image = json::parse(*found->image_json, ec);
    json::array variants;
    for (const auto& v : variants_of(*found)) {
      const auto& vo = v.as_object();
      variants.push_back(json::object{{"name", vo.at("name")}, {"width", vo.at("width")}, {"height", vo.at("height")}});
    }
    items.push_back(json::object{{"type", "file"},
                                 {"file_id", id},
                                 {"name", found->name},
                                 {"content_type", found->content_type},
                                 {"size", found->size},
                                 {"image", ec ? json::value(nullptr) : image},
                                 {"variants", std::move(variants)}});
    // The channel is noted now: a message that commits but whose attach() is lost (its node
    // stopped) is still found by cleanup().
    PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
      auto st = c.prepare("UPDATE files SET channel_id = $3 WHERE app_id = $1 AND id = $2 AND message_seq IS NULL");
      st->bind(1, app.id).bind(2, id).bind(3, channel_id).run();
      return ok_status();
    }));
    out.file_ids.push_back(std::move(id));
  }
  out.json = json::serialize(items);
  return out;
}

Status FileService::attach(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                           const std::vector<std::string>& file_ids, bool exact) {
  std::vector<FileRecord> dropped;
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    Transaction tx(c);
    auto now = now_ms();
    for (const auto& id : file_ids) {
      auto st = c.prepare(
          "UPDATE files SET channel_id = $3, message_seq = $4, attached_at = COALESCE(attached_at, $5) "
          "WHERE app_id = $1 AND id = $2 AND (message_seq IS NULL OR (channel_id = $3 AND message_seq = $4))");
      st->bind(1, app_id).bind(2, id).bind(3, channel_id).bind(4, seq).bind(5, now).run();
    }
    auto st = c.prepare(std::string("SELECT ") + kColumns +
                        " FROM files WHERE app_id = $1 AND channel_id = $2 AND message_seq = $3");
    st->bind(1, app_id).bind(2, channel_id).bind(3, seq);
    while (st->step()) {
      auto f = read_row(*st);
      if (exact && std::find(file_ids.begin(), file_ids.end(), f.id) == file_ids.end()) dropped.push_back(std::move(f));
    }
    tx.commit();
    return ok_status();
  }));
  for (const auto& f : dropped) PARLEY_TRY(release(f));
  return ok_status();
}

Status FileService::release_message(const std::string& app_id, const std::string& channel_id, std::int64_t seq) {
  PARLEY_ASSIGN_OR_RETURN(auto files, db_.with_conn([&](Connection& c) -> Result<std::vector<FileRecord>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns +
                        " FROM files WHERE app_id = $1 AND channel_id = $2 AND message_seq = $3");
    st->bind(1, app_id).bind(2, channel_id).bind(3, seq);
    std::vector<FileRecord> out;
    while (st->step()) out.push_back(read_row(*st));
    return out;
  }));
  for (const auto& f : files) PARLEY_TRY(release(f));
  return ok_status();
}

Status FileService::release_channel(const std::string& app_id, const std::string& channel_id) {
  PARLEY_ASSIGN_OR_RETURN(auto files, db_.with_conn([&](Connection& c) -> Result<std::vector<FileRecord>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns + " FROM files WHERE app_id = $1 AND channel_id = $2");
    st->bind(1, app_id).bind(2, channel_id);
    std::vector<FileRecord> out;
    while (st->step()) out.push_back(read_row(*st));
    return out;
  }));
  for (const auto& f : files) PARLEY_TRY(release(f));
  return ok_status();
}

Result<std::string> FileService::image_url(const tenancy::App& app, const std::string& user_id,
                                           const std::string& file_id, Purpose purpose, const std::string& base) {
  PARLEY_ASSIGN_OR_RETURN(auto found, find(app.id, file_id));
  if (!found || found->uploader_id != user_id) {
    return violates("image_file_id", "the file does not exist or was not uploaded by the caller");
  }
  if (!found->ready || found->purpose != purpose) {
    return violates("image_file_id", "must be a complete upload with purpose " + std::string(purpose_name(purpose)));
  }
  return content_url(*found, found->has_variant("256") ? "256" : "", base, 0);
}

Status FileService::image_used(const tenancy::App& app, const std::string& file_id, Purpose purpose,
                               const std::string& owner, const std::string& previous_url) {
  // A channel image records its channel (an avatar's owner is its uploader).
  PARLEY_TRY(db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare(
        "UPDATE files SET attached_at = COALESCE(attached_at, $3), channel_id = CASE WHEN purpose = 'channel_image' "
        "THEN $4 ELSE channel_id END WHERE app_id = $1 AND id = $2");
    st->bind(1, app.id).bind(2, file_id).bind(3, now_ms()).bind(4, owner).run();
    return ok_status();
  }));
  auto at = previous_url.find("/v1/files/");
  if (at == std::string::npos || previous_url.find("app=" + pct(app.id)) == std::string::npos) return ok_status();
  auto rest = previous_url.substr(at + 10);
  auto old_id = rest.substr(0, rest.find('/'));
  if (old_id == file_id) return ok_status();
  PARLEY_ASSIGN_OR_RETURN(auto old, find(app.id, old_id));
  if (!old || old->purpose != purpose) return ok_status();
  bool owned = purpose == Purpose::avatar ? old->uploader_id == owner : old->channel_id == owner;
  return owned ? release(*old) : ok_status();
}

Result<std::vector<std::string>> FileService::object_keys_of_app(const std::string& app_id) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<std::string>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns + " FROM files WHERE app_id = $1");
    st->bind(1, app_id);
    std::vector<std::string> keys;
    while (st->step()) {
      auto f = read_row(*st);
      keys.push_back(object_key(f));
      for (const auto& v : variants_of(f)) {
        if (v.is_object() && v.as_object().contains("name") && v.as_object().at("name").is_string()) {
          keys.push_back(object_key(f, std::string(v.as_object().at("name").as_string())));
        }
      }
    }
    return keys;
  });
}

Status FileService::remove_objects(const std::vector<std::string>& keys) {
  Status first = ok_status();
  for (const auto& k : keys) {
    if (auto st = storage_.remove(k); !st && first) first = std::move(st);
  }
  return first;
}

Result<int> FileService::cleanup(TimeMs now, int limit) {
  const TimeMs orphan_before = now - static_cast<TimeMs>(opts_.orphan_ttl.count()) * 1000;
  const TimeMs pending_before = now - static_cast<TimeMs>(opts_.pending_ttl.count()) * 1000;
  PARLEY_ASSIGN_OR_RETURN(auto candidates, db_.with_conn([&](Connection& c) -> Result<std::vector<FileRecord>> {
    auto st = c.prepare(std::string("SELECT ") + kColumns +
                        " FROM files WHERE attached_at IS NULL AND created_at < $1 AND (state = 'ready' OR "
                        "created_at < $2) ORDER BY created_at LIMIT $3");
    st->bind(1, std::max(orphan_before, pending_before)).bind(2, pending_before).bind(3, limit);
    std::vector<FileRecord> out;
    while (st->step()) out.push_back(read_row(*st));
    return out;
  }));
  int removed = 0;
  for (const auto& f : candidates) {
    if (f.ready && f.created_at >= orphan_before) continue;
    // A message that names it, whose attach() was lost (its node stopped after the commit).
    if (f.ready && f.channel_id) {
      PARLEY_ASSIGN_OR_RETURN(auto seq, db_.with_conn([&](Connection& c) -> Result<std::optional<std::int64_t>> {
        auto st =
            c.prepare("SELECT seq FROM messages WHERE app_id = $1 AND channel_id = $2 AND attachments LIKE $3 LIMIT 1");
        st->bind(1, f.app_id).bind(2, *f.channel_id).bind(3, "%\"file_id\":\"" + f.id + "\"%");
        if (!st->step()) return std::optional<std::int64_t>{};
        return std::optional<std::int64_t>{st->int64(0)};
      }));
      if (seq) {
        PARLEY_TRY(attach(f.app_id, *f.channel_id, *seq, {f.id}, false));
        continue;
      }
    }
    PARLEY_TRY(release(f));
    ++removed;
  }
  return removed;
}

}  // namespace parley::files
