#include "files/s3_transfer.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::files::s3 {
namespace {

// Error bodies are small XML documents; anything beyond this is not kept.
constexpr std::size_t kMaxKeptBody = std::size_t{64} << 10;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// What one transfer's callbacks share; lives for its curl_easy_perform.
struct Transfer {
  CURL* curl = nullptr;
  Response response;
  const FileRange* upload = nullptr;
  std::uint64_t sent = 0;
  int read_errno = 0;
  const std::filesystem::path* download = nullptr;
  std::unique_ptr<std::FILE, FileCloser> sink;
  int write_errno = 0;
};

bool success(long status) { return status >= 200 && status < 300; }

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->download && success(status)) {
    if (!t->sink) {
      t->sink.reset(std::fopen(t->download->c_str(), "wb"));
      if (!t->sink) {
        t->write_errno = errno;
        return 0;
      }
    }
    if (std::fwrite(data, 1, len, t->sink.get()) != len) {
      t->write_errno = errno;
      return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
    }
    return len;
  }
  const std::size_t room = kMaxKeptBody - std::min(kMaxKeptBody, t->response.body.size());
  t->response.body.append(data, std::min(len, room));
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {  // a new response (after a 100 Continue): its headers only
    t->response.headers.clear();
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || t->response.headers.size() >= 200) return len;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  t->response.headers.emplace_back(std::move(name), std::string(value));
  return len;
}

// Streams the upload range with pread: the file is never read into memory as a whole, and parts
// of one file may be sent from one descriptor.
std::size_t on_read(char* buffer, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::uint64_t left = t->upload->size - t->sent;
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, size * n));
  if (want == 0) return 0;
  const ssize_t got = ::pread(t->upload->fd, buffer, want, static_cast<off_t>(t->upload->offset + t->sent));
  if (got <= 0) {  // the file shrank or failed under us: a short body would be a wrong object
    t->read_errno = got < 0 ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  t->sent += static_cast<std::uint64_t>(got);
  return static_cast<std::size_t>(got);
}

// Rewinds the upload when libcurl must send the body again (a redirect or an auth retry).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > t->upload->size)
    return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::string decode_entities(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (s.substr(i).starts_with(entity)) {
          out.push_back(c);
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

}  // namespace

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

std::string xml_value(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  auto start = xml.find(open);
  if (start == std::string_view::npos) return {};
  start += open.size();
  auto end = xml.find(close, start);
  if (end == std::string_view::npos) return {};
  return decode_entities(xml.substr(start, end - start));
}

Error error_of(const Response& r, const std::string& what) {
  const std::string code = xml_value(r.body, "Code");
  const std::string message = xml_value(r.body, "Message");
  std::string text = what + ": S3 answered " + std::to_string(r.status);
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += " (" + message + ")";
  Errc errc = Errc::internal;
  if (r.status == 404) errc = Errc::not_found;
  if (r.status >= 500 || r.status == 429 || code == "SlowDown" || code == "InternalError" ||
      code == "ServiceUnavailable")
    errc = Errc::unavailable;
  Error e{errc, std::move(text)};
  e.with("http_status", std::to_string(r.status));
  if (!code.empty()) e.with("s3_code", code);
  return e;
}

Result<Response> perform(const Credentials& creds, const Request& request) {
  global_init();
  // One handle per thread, reset for each request; its connection cache keeps the connections to
  // the endpoint alive for the thread's next request.
  thread_local std::unique_ptr<CURL, CurlDeleter> h;
  if (!h) h.reset(curl_easy_init());
  if (!h) return Error{Errc::internal, "curl_easy_init failed"};
  CURL* c = h.get();
  curl_easy_reset(c);

  Transfer t;
  t.curl = c;
  t.upload = request.upload;
  t.download = request.download;

  std::unique_ptr<curl_slist, CurlDeleter> headers;
  auto add_header = [&](const std::string& line) {
    // curl_slist_append returns the list's head (the same one after the first) or null.
    if (curl_slist* head = curl_slist_append(headers.get(), line.c_str())) {
      static_cast<void>(headers.release());
      headers.reset(head);
    }
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line.append(": ").append(value);
    add_header(line);
  }
  // libcurl 7.88 signs this header and uses its value as the payload hash of the canonical
  // request; s3rver (and S3) refuse a SigV4 request without it.
  add_header("x-amz-content-sha256: " +
             (request.upload ? std::string("UNSIGNED-PAYLOAD") : crypto::sha256_hex(request.body)));

  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERNAME, creds.access_key.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, creds.secret_key.c_str());
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, creds.sigv4.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.upload) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    if (request.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.upload->size));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
  } else if (request.method == "PUT" || request.method == "POST") {
    if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = static_cast<int>(status);

  const bool wrote = t.sink != nullptr;
  if (wrote && std::fclose(t.sink.release()) != 0 && rc == CURLE_OK)
    return Error{Errc::internal, "writing " + request.download->string() + " failed: " + std::strerror(errno)};
  if (rc == CURLE_OK && request.download && success(status) && !wrote) {
    // An empty object: no body callback ran, the file is still to be made.
    std::unique_ptr<std::FILE, FileCloser> empty(std::fopen(request.download->c_str(), "wb"));
    if (!empty) return Error{Errc::internal, "creating " + request.download->string() + ": " + std::strerror(errno)};
  }
  if (rc != CURLE_OK) {
    if (t.write_errno)
      return Error{Errc::internal,
                   "writing " + request.download->string() + " failed: " + std::strerror(t.write_errno)};
    if (t.read_errno)
      return Error{Errc::internal, "reading the upload failed: " + std::string(std::strerror(t.read_errno))};
    const std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    Error e{Errc::unavailable, "S3 " + request.method + " failed: " + why};
    if (rc == CURLE_OPERATION_TIMEDOUT) e.with("reason", "timeout");
    return e;
  }
  return std::move(t.response);
}

}  // namespace parley::files::s3
