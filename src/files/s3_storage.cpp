// The S3-compatible store (storage.hpp): objects in one bucket, reached path-style
// (endpoint/bucket/key) or virtual-host style (bucket.endpoint/key). Requests are signed by
// libcurl (s3_transfer.cpp), presigned URLs by sigv4.cpp. Thread-safe: the object holds only
// its options; each call makes its own requests on the calling thread's libcurl handle.
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "files/s3_transfer.hpp"
#include "files/sigv4.hpp"
#include "files/storage.hpp"

namespace parley::files {
namespace {

constexpr std::uint64_t kMinPartSize = std::uint64_t{5} << 20;  // S3's least part but the last
constexpr std::uint64_t kMaxParts = 10000;
constexpr std::chrono::seconds kMaxPresignTtl{604800};  // SigV4's longest X-Amz-Expires

struct Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;       // with ":port" unless it is the scheme's default
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// Parses "scheme://host[:port][/path]"; throws std::invalid_argument (a configuration error).
Endpoint parse_endpoint(const std::string& text) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    throw std::invalid_argument("S3 endpoint is not a URL: '" + text + "'");
  auto part = [&](CURLUPart which) {
    char* v = nullptr;
    if (curl_url_get(u.get(), which, &v, 0) != CURLUE_OK || !v) return std::string();
    std::string s(v);
    curl_free(v);
    return s;
  };
  Endpoint e;
  e.scheme = part(CURLUPART_SCHEME);
  if (e.scheme != "http" && e.scheme != "https")
    throw std::invalid_argument("S3 endpoint must be http or https: '" + text + "'");
  e.host = part(CURLUPART_HOST);
  const std::string port = part(CURLUPART_PORT);
  if (!port.empty() && !(e.scheme == "http" && port == "80") && !(e.scheme == "https" && port == "443"))
    e.host += ":" + port;
  e.base_path = part(CURLUPART_PATH);
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  if (!part(CURLUPART_QUERY).empty() || !part(CURLUPART_USER).empty())
    throw std::invalid_argument("S3 endpoint must not carry a query or credentials: '" + text + "'");
  return e;
}

std::int64_t ms_since_epoch(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

class S3Storage final : public Storage {
 public:
  explicit S3Storage(S3Options o) : o_(std::move(o)), ep_(parse_endpoint(o_.endpoint)) {
    if (o_.bucket.empty()) throw std::invalid_argument("S3 bucket is not set");
    creds_ = {o_.access_key, o_.secret_key, "aws:amz:" + o_.region + ":s3"};
    o_.part_size = std::max(o_.part_size, kMinPartSize);
    o_.multipart_threshold = std::max<std::uint64_t>(o_.multipart_threshold, 1);
  }

  std::string kind() const override { return "s3"; }
  std::string describe() const override { return ep_.scheme + "://" + host() + bucket_path(); }

  Result<Unit> check() override {
    PARLEY_ASSIGN_OR_RETURN(auto r, send("HEAD", url(bucket_path() + "/")));
    if (r.status != 200) return s3::error_of(r, "bucket '" + o_.bucket + "' at " + describe());
    return Unit{};
  }

  Result<Unit> put_file(const std::string& key, const std::filesystem::path& src,
                        const std::string& content_type) override {
    FileDescriptor fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0)
      return Error{Errc::internal, "opening " + src.string() + ": " + std::strerror(errno)};
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size >= o_.multipart_threshold) return put_multipart(key, fd.get(), size, content_type);
    const s3::FileRange body{fd.get(), 0, size};
    auto req = request("PUT", url(object_path(key)));
    req.upload = &body;
    if (!content_type.empty()) req.headers.emplace_back("Content-Type", content_type);
    PARLEY_ASSIGN_OR_RETURN(auto r, send(req));
    if (r.status != 200) return s3::error_of(r, "PUT '" + key + "'");
    return Unit{};
  }

  Result<Unit> get_to_file(const std::string& key, const std::filesystem::path& dest) override {
    auto req = request("GET", url(object_path(key)));
    req.download = &dest;
    auto r = send(req);
    if (r && r->status == 200) return Unit{};
    std::error_code ec;
    std::filesystem::remove(dest, ec);  // a partial or stale file is no copy of the object
    if (!r) return std::move(r).error();
    return s3::error_of(*r, "GET '" + key + "'");
  }

  Result<ObjectInfo> stat(const std::string& key) override {
    PARLEY_ASSIGN_OR_RETURN(auto r, send("HEAD", url(object_path(key))));
    if (r.status == 404) return not_found("object '" + key + "'");
    if (r.status != 200) return s3::error_of(r, "HEAD '" + key + "'");
    ObjectInfo info;
    const std::string length = r.header("content-length");
    auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), info.size);
    if (ec != std::errc{} || end != length.data() + length.size())
      return Error{Errc::internal, "HEAD '" + key + "': no Content-Length in S3's answer"};
    info.content_type = r.header("content-type");
    return info;
  }

  Result<Unit> remove(const std::string& key) override {
    PARLEY_ASSIGN_OR_RETURN(auto r, send("DELETE", url(object_path(key))));
    // S3 answers 204 whether or not the key existed; some compatible stores say 404.
    if (r.status == 204 || r.status == 200 || r.status == 404) return Unit{};
    return s3::error_of(r, "DELETE '" + key + "'");
  }

  std::optional<std::filesystem::path> local_path(const std::string&) const override { return std::nullopt; }

  std::optional<SignedUrl> presign_get(const std::string& key, const std::string& content_type,
                                       const std::string& content_disposition,
                                       std::chrono::seconds ttl) const override {
    auto in = presign_input("GET", key, ttl);
    if (!content_type.empty()) in.query.emplace_back("response-content-type", content_type);
    if (!content_disposition.empty()) in.query.emplace_back("response-content-disposition", content_disposition);
    return SignedUrl{.method = "GET",
                     .url = sigv4::presign_url(in),
                     .headers = {},
                     .expires_at = ms_since_epoch(in.now + in.expires)};
  }

  std::optional<SignedUrl> presign_put(const std::string& key, std::uint64_t size, const std::string& content_type,
                                       std::chrono::seconds ttl) const override {
    auto in = presign_input("PUT", key, ttl);
    // Content-Length is signed too: the URL uploads exactly `size` bytes (browsers send it
    // themselves and ignore it in a header list; other clients must send it as given).
    in.headers = {{"Content-Length", std::to_string(size)}, {"Content-Type", content_type}};
    return SignedUrl{.method = "PUT",
                     .url = sigv4::presign_url(in),
                     .headers = in.headers,
                     .expires_at = ms_since_epoch(in.now + in.expires)};
  }

 private:
  std::string host() const { return o_.path_style ? ep_.host : o_.bucket + "." + ep_.host; }
  std::string bucket_path() const { return ep_.base_path + (o_.path_style ? "/" + o_.bucket : ""); }
  std::string object_path(const std::string& key) const { return bucket_path() + "/" + sigv4::uri_encode(key, true); }
  // `query` must be canonical (sorted, encoded): libcurl 7.88 signs the query as given.
  std::string url(const std::string& path, const std::string& query = "") const {
    return ep_.scheme + "://" + host() + path + (query.empty() ? "" : "?" + query);
  }

  s3::Request request(std::string method, std::string url) const {
    s3::Request r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.timeout = o_.timeout;
    return r;
  }
  Result<s3::Response> send(std::string method, std::string url) const {
    return s3::perform(creds_, request(std::move(method), std::move(url)));
  }
  Result<s3::Response> send(const s3::Request& req) const { return s3::perform(creds_, req); }

  sigv4::PresignInput presign_input(std::string method, const std::string& key, std::chrono::seconds ttl) const {
    sigv4::PresignInput in;
    in.method = std::move(method);
    in.scheme = ep_.scheme;
    in.host = host();
    in.path = object_path(key);
    in.access_key = o_.access_key;
    in.secret_key = o_.secret_key;
    in.region = o_.region;
    in.now = std::chrono::system_clock::now();
    in.expires = std::clamp(ttl, std::chrono::seconds{1}, kMaxPresignTtl);
    return in;
  }

  Result<Unit> put_multipart(const std::string& key, int fd, std::uint64_t size, const std::string& content_type);
  Result<Unit> upload_parts(const std::string& key, const std::string& upload_id, int fd, std::uint64_t size);

  S3Options o_;
  Endpoint ep_;
  s3::Credentials creds_;
};

// CreateMultipartUpload, the parts, CompleteMultipartUpload; AbortMultipartUpload when any of
// them fails, so no parts are left billed in the bucket.
Result<Unit> S3Storage::put_multipart(const std::string& key, int fd, std::uint64_t size,
                                      const std::string& content_type) {
  auto create = request("POST", url(object_path(key), "uploads="));
  if (!content_type.empty()) create.headers.emplace_back("Content-Type", content_type);
  PARLEY_ASSIGN_OR_RETURN(auto created, send(create));
  if (created.status != 200) return s3::error_of(created, "CreateMultipartUpload '" + key + "'");
  const std::string upload_id = s3::xml_value(created.body, "UploadId");
  if (upload_id.empty())
    return Error{Errc::internal, "CreateMultipartUpload '" + key + "': no UploadId in S3's answer"};

  auto done = upload_parts(key, upload_id, fd, size);
  if (!done) {
    auto aborted = send("DELETE", url(object_path(key), "uploadId=" + sigv4::uri_encode(upload_id, false)));
    if (!aborted || (aborted->status != 204 && aborted->status != 200 && aborted->status != 404))
      return std::move(done).error().with(
          "abort", aborted ? "S3 answered " + std::to_string(aborted->status) : aborted.error().message);
  }
  return done;
}

Result<Unit> S3Storage::upload_parts(const std::string& key, const std::string& upload_id, int fd, std::uint64_t size) {
  const std::string id = sigv4::uri_encode(upload_id, false);
  const std::uint64_t part_size = std::max(o_.part_size, (size + kMaxParts - 1) / kMaxParts);
  std::string complete = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  std::uint64_t number = 1;
  for (std::uint64_t offset = 0; offset < size; offset += part_size, ++number) {
    const s3::FileRange part{fd, offset, std::min(part_size, size - offset)};
    // partNumber sorts before uploadId: the query is canonical as libcurl signs it.
    const std::string query = "partNumber=" + std::to_string(number) + "&uploadId=" + id;
    auto put = request("PUT", url(object_path(key), query));
    put.upload = &part;
    PARLEY_ASSIGN_OR_RETURN(auto r, send(put));
    if (r.status != 200) return s3::error_of(r, "UploadPart " + std::to_string(number) + " of '" + key + "'");
    std::string etag = r.header("etag");
    if (etag.empty()) return Error{Errc::internal, "UploadPart of '" + key + "': no ETag in S3's answer"};
    complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag + "</ETag></Part>";
  }
  complete += "</CompleteMultipartUpload>";
  auto finish = request("POST", url(object_path(key), "uploadId=" + id));
  finish.body = std::move(complete);
  finish.headers.emplace_back("Content-Type", "application/xml");
  PARLEY_ASSIGN_OR_RETURN(auto r, send(finish));
  // S3 may answer 200 and still report an error in the body (a failure after the headers went).
  if (r.status != 200 || r.body.find("<Error>") != std::string::npos)
    return s3::error_of(r, "CompleteMultipartUpload '" + key + "'");
  return Unit{};
}

}  // namespace

std::unique_ptr<Storage> make_s3_storage(S3Options opts) { return std::make_unique<S3Storage>(std::move(opts)); }

}  // namespace parley::files
