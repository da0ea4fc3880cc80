// The S3 store against a real s3rver (tests/node, installed by scripts/install-test-tools.sh) on
// a free loopback port: small and multipart uploads, stat, streamed downloads, removal, the
// bucket check, presigned GET and PUT URLs fetched with plain libcurl. What Parley stored is read
// back by an independent client (the AWS SDK, tests/node/s3_verify.mjs), and since s3rver does
// not verify V4 signatures, Parley's presigned URLs are compared with the AWS SDK's signer
// (tests/node/sigv4_presign.mjs) and with the example in AWS's documentation, and the requests
// libcurl signs are captured by a loopback server and signed again by the SDK (sigv4_sign.mjs).
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <regex>
#include <string>
#include <thread>

#include "core/crypto.hpp"
#include "files/sigv4.hpp"
#include "files/storage.hpp"
#include "loopback_http_server.hpp"

namespace parley::files {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kSourceDir = PARLEY_SOURCE_DIR;
const fs::path kNodeDir = kSourceDir / "tests/node";
const fs::path kS3rver = kNodeDir / "node_modules/.bin/s3rver";
constexpr const char* kBucket = "parley-test";
constexpr const char* kInstallHint =
    "s3rver is not installed: run scripts/install-test-tools.sh (npm ci in tests/node)";

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(s);
    return 0;
  }
  ::close(s);
  return ntohs(a.sin_port);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Runs a shell command and returns its standard output (the command's stderr goes to ours).
std::string run(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> p(popen(command.c_str(), "r"), &pclose);
  if (!p) return {};
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A temporary folder, removed with everything in it.
struct TempDir {
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "parley-s3-XXXXXX").string();
    if (mkdtemp(tmpl.data())) path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

// s3rver in the foreground as a child, its log in the temp folder; killed with the test.
class S3rver {
 public:
  static std::unique_ptr<S3rver> start(std::string* why) {
    if (!fs::exists(kS3rver)) {
      *why = std::string(kInstallHint) + " (" + kS3rver.string() + " is missing)";
      return nullptr;
    }
    auto s = std::unique_ptr<S3rver>(new S3rver);
    s->port_ = free_port();
    const fs::path data = s->dir_.path / "data";
    fs::create_directories(data);
    const std::string log = (s->dir_.path / "s3rver.log").string();
    const std::string port = std::to_string(s->port_);
    const pid_t parent = ::getpid();
    s->pid_ = ::fork();
    if (s->pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) _exit(127);
      std::FILE* f = std::freopen(log.c_str(), "w", stdout);
      if (f) ::dup2(::fileno(stdout), 2);
      ::execl(kS3rver.c_str(), kS3rver.c_str(), "-d", data.c_str(), "-p", port.c_str(), "-a", "127.0.0.1",
              "--configure-bucket", kBucket, static_cast<char*>(nullptr));
      _exit(127);
    }
    auto store = make_s3_storage(s->options());
    for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
      if (store->check()) return s;
      int status = 0;
      if (::waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
        s->pid_ = -1;
        *why = "s3rver exited at start: " + read_file(log);
        return nullptr;
      }
      std::this_thread::sleep_for(100ms);
    }
    *why = "s3rver did not answer within 20 s: " + read_file(log);
    return nullptr;
  }

  ~S3rver() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  S3Options options() const {
    S3Options o;
    o.endpoint = endpoint();
    o.bucket = kBucket;
    o.access_key = "S3RVER";
    o.secret_key = "S3RVER";
    o.timeout = 30s;
    return o;
  }
  std::string log() const { return read_file(dir_.path / "s3rver.log"); }
  // Multipart uploads begun and neither completed nor aborted (s3rver keeps each in a folder;
  // it has no ListMultipartUploads).
  int open_uploads() const {
    int n = 0;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path / "data", ec))
      if (e.path().filename().string().ends_with("._S3rver_uploads"))
        n += static_cast<int>(std::distance(fs::directory_iterator(e.path()), fs::directory_iterator()));
    return n;
  }

 private:
  S3rver() = default;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The node scripts need tests/node/node_modules; a test without them fails saying so.
bool node_tools_installed() {
  if (fs::exists(kNodeDir / "node_modules/@smithy/signature-v4") && fs::exists(kNodeDir / "node_modules/@aws-sdk"))
    return true;
  ADD_FAILURE() << "the AWS SDK is not installed: run scripts/install-test-tools.sh (npm ci in tests/node)";
  return false;
}

// What the AWS SDK reads back (tests/node/s3_verify.mjs).
struct Seen {
  bool missing = false;
  std::int64_t size = -1;
  std::string sha256;
  std::string content_type;
};

Seen verify(const S3rver& s3, const std::string& key) {
  if (!node_tools_installed()) return {};
  const std::string out = run("node --no-warnings " + shell_quote((kNodeDir / "s3_verify.mjs").string()) + " " +
                              shell_quote(s3.endpoint()) + " " + kBucket + " " + shell_quote(key));
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "s3_verify.mjs printed: " << out;
    return {};
  }
  const auto& o = v.as_object();
  Seen seen;
  if (auto* m = o.if_contains("missing")) seen.missing = m->as_bool();
  if (auto* n = o.if_contains("size")) seen.size = n->to_number<std::int64_t>();
  if (auto* h = o.if_contains("sha256")) seen.sha256 = h->as_string().c_str();
  if (auto* t = o.if_contains("contentType")) seen.content_type = t->as_string().c_str();
  return seen;
}

struct HttpResult {
  long status = 0;
  std::string body;
  std::string headers;  // the raw header block
};

std::size_t append(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// A plain libcurl request with no credentials of its own (a client holding a presigned URL).
HttpResult http(const SignedUrl& url, const std::string& body = "") {
  HttpResult r;
  CURL* c = curl_easy_init();
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : url.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  curl_easy_setopt(c, CURLOPT_URL, url.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  if (url.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(c);
  return r;
}

std::string header_of(const HttpResult& r, const std::string& name) {
  std::smatch m;
  const std::regex re("(^|\n)" + name + ":[ \t]*([^\r\n]*)", std::regex::icase);
  return std::regex_search(r.headers, m, re) ? m[2].str() : std::string();
}

// The query of a URL with the named parameter's value ("" when absent).
std::string query_param(const std::string& url, const std::string& name) {
  std::smatch m;
  return std::regex_search(url, m, std::regex("[?&]" + name + "=([^&]*)")) ? m[1].str() : std::string();
}

class S3StorageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A free port may be taken by another test process before s3rver binds it: try again.
    for (int attempt = 0; attempt < 3 && !server_; ++attempt) server_ = S3rver::start(&why_).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(server_) << why_;
    store_ = make_s3_storage(server_->options());
  }

  fs::path file(const std::string& name, const std::string& bytes) {
    const fs::path p = tmp_.path / name;
    write_file(p, bytes);
    return p;
  }

  static S3rver* server_;
  static std::string why_;
  TempDir tmp_;
  std::unique_ptr<Storage> store_;
};
S3rver* S3StorageTest::server_ = nullptr;
std::string S3StorageTest::why_;

TEST_F(S3StorageTest, DescribesItselfWithoutCredentials) {
  EXPECT_EQ(store_->kind(), "s3");
  EXPECT_EQ(store_->describe(), server_->endpoint() + "/" + kBucket);
  EXPECT_EQ(store_->local_path("a/b"), std::nullopt);
}

TEST_F(S3StorageTest, PutsStatsGetsAndRemovesASmallFile) {
  const std::string bytes = random_bytes(1000, 1);
  ASSERT_TRUE(store_->put_file("app_1/file_small", file("src", bytes), "text/plain"));

  auto info = store_->stat("app_1/file_small");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->size, 1000u);
  EXPECT_EQ(info->content_type, "text/plain");
  auto seen = verify(*server_, "app_1/file_small");
  EXPECT_EQ(seen.size, 1000);
  EXPECT_EQ(seen.sha256, crypto::sha256_hex(bytes));
  EXPECT_EQ(seen.content_type, "text/plain");

  const fs::path dest = tmp_.path / "dest";
  write_file(dest, std::string(5000, 'x'));  // truncated by the copy
  ASSERT_TRUE(store_->get_to_file("app_1/file_small", dest));
  EXPECT_EQ(read_file(dest), bytes);

  ASSERT_TRUE(store_->remove("app_1/file_small"));
  auto gone = store_->stat("app_1/file_small");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, Errc::not_found);
  EXPECT_TRUE(verify(*server_, "app_1/file_small").missing);
  EXPECT_TRUE(store_->remove("app_1/file_small")) << "removing a missing object is no error";
}

TEST_F(S3StorageTest, StoresAnEmptyFile) {
  ASSERT_TRUE(store_->put_file("app_1/empty", file("empty", ""), "application/octet-stream"));
  EXPECT_EQ(store_->stat("app_1/empty")->size, 0u);
  const fs::path dest = tmp_.path / "empty-copy";
  ASSERT_TRUE(store_->get_to_file("app_1/empty", dest));
  EXPECT_TRUE(fs::exists(dest));
  EXPECT_EQ(fs::file_size(dest), 0u);
}

TEST_F(S3StorageTest, SendsALargeFileInPartsThatS3Reassembles) {
  const std::string bytes = random_bytes(std::size_t{20} << 20, 2);  // 8 + 8 + 4 MiB
  ASSERT_TRUE(store_->put_file("app_1/file_large", file("large", bytes), "video/mp4"));

  const std::string log = server_->log();
  const std::regex part_put("/app_1/file_large\\?partNumber=(\\d+)&uploadId=\\w+ 200");
  std::vector<int> parts;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), part_put); it != std::sregex_iterator(); ++it)
    parts.push_back(std::stoi((*it)[1].str()));
  EXPECT_EQ(parts, (std::vector<int>{1, 2, 3})) << log;

  auto seen = verify(*server_, "app_1/file_large");
  EXPECT_EQ(seen.size, std::int64_t{20} << 20);
  EXPECT_EQ(seen.sha256, crypto::sha256_hex(bytes)) << "the parts are assembled in order";
  EXPECT_EQ(seen.content_type, "video/mp4");
  EXPECT_EQ(server_->open_uploads(), 0) << "the multipart upload is completed";

  EXPECT_EQ(store_->stat("app_1/file_large")->size, std::uint64_t{20} << 20);
  const fs::path dest = tmp_.path / "large-copy";
  ASSERT_TRUE(store_->get_to_file("app_1/file_large", dest));
  EXPECT_EQ(crypto::sha256_hex(read_file(dest)), crypto::sha256_hex(bytes));
  ASSERT_TRUE(store_->remove("app_1/file_large"));
}

TEST_F(S3StorageTest, MissingObjectsAreNotFoundWithS3sCode) {
  const fs::path dest = tmp_.path / "never";
  auto r = store_->get_to_file("app_1/no_such_file", dest);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_NE(r.error().message.find("NoSuchKey"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("S3RVER"), std::string::npos) << "no credentials in messages";
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(S3StorageTest, EncodesKeysInThePath) {
  const std::string key = "app_1/odd key+plus%/x.thumb";  // not a Parley key, but safe anyway
  ASSERT_TRUE(store_->put_file(key, file("odd", "odd bytes"), "text/plain"));
  EXPECT_EQ(verify(*server_, key).sha256, crypto::sha256_hex("odd bytes"));
  EXPECT_EQ(store_->stat(key)->size, 9u);
  ASSERT_TRUE(store_->remove(key));
}

TEST_F(S3StorageTest, CheckAnswersForTheBucketOnly) {
  EXPECT_TRUE(store_->check());

  auto other = server_->options();
  other.bucket = "no-such-bucket";
  auto missing = make_s3_storage(other)->check();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found) << missing.error().message;

  auto closed = server_->options();
  closed.endpoint = "http://127.0.0.1:" + std::to_string(free_port());
  auto down = make_s3_storage(closed)->check();
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code, Errc::unavailable) << down.error().message;
  auto put = make_s3_storage(closed)->put_file("a/b", file("c", "c"), "text/plain");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, Errc::unavailable);
}

TEST_F(S3StorageTest, PresignedGetReturnsTheBytesAndTheHeadersAskedFor) {
  const std::string bytes = random_bytes(4096, 3);
  ASSERT_TRUE(store_->put_file("app_1/photo", file("photo", bytes), "application/octet-stream"));
  const std::string disposition = "attachment; filename=\"holiday photo.png\"";
  const auto before = std::chrono::system_clock::now();
  auto url = store_->presign_get("app_1/photo", "image/png", disposition, 600s);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->method, "GET");
  EXPECT_TRUE(url->url.starts_with(server_->endpoint() + "/parley-test/app_1/photo?")) << url->url;
  const auto expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>((before + 600s).time_since_epoch());
  EXPECT_NEAR(static_cast<double>(url->expires_at), static_cast<double>(expires_ms.count()), 5000);

  auto got = http(*url);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, bytes);
  EXPECT_EQ(header_of(got, "content-type"), "image/png");
  EXPECT_EQ(header_of(got, "content-disposition"), disposition);
}

TEST_F(S3StorageTest, ExpiredPresignedUrlIsRefused) {
  ASSERT_TRUE(store_->put_file("app_1/brief", file("brief", "short-lived"), "text/plain"));
  auto url = store_->presign_get("app_1/brief", "text/plain", "inline", 1s);
  ASSERT_TRUE(url);
  EXPECT_EQ(http(*url).status, 200);
  std::this_thread::sleep_for(2s);
  auto late = http(*url);
  EXPECT_EQ(late.status, 403);
  EXPECT_NE(late.body.find("Request has expired"), std::string::npos) << late.body;
}

TEST_F(S3StorageTest, PresignedPutStoresTheExactBytes) {
  const std::string bytes = random_bytes(3000, 4);
  auto url = store_->presign_put("app_1/upload", bytes.size(), "application/pdf", 600s);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->method, "PUT");
  auto put = http(*url, bytes);
  EXPECT_EQ(put.status, 200) << put.body;
  auto seen = verify(*server_, "app_1/upload");
  EXPECT_EQ(seen.sha256, crypto::sha256_hex(bytes));
  EXPECT_EQ(seen.content_type, "application/pdf");
}

// ---- SigV4 presigning, checked against AWS's documentation and the AWS SDK's signer ----------

// The AWS SDK's signer over the same request and time; returns its canonical query.
std::string sdk_presign(const std::string& method, const std::string& url_without_auth,
                        const std::vector<std::pair<std::string, std::string>>& headers, const std::string& date_iso,
                        long expires) {
  if (!node_tools_installed()) return {};
  boost::json::object in{{"method", method},      {"url", url_without_auth}, {"region", "us-east-1"},
                         {"accessKey", "S3RVER"}, {"secretKey", "S3RVER"},   {"date", date_iso},
                         {"expiresIn", expires}};
  boost::json::object h;
  for (const auto& [name, value] : headers) h[name] = value;
  in["headers"] = std::move(h);
  std::string out = run("node --no-warnings " + shell_quote((kNodeDir / "sigv4_presign.mjs").string()) + " " +
                        shell_quote(boost::json::serialize(in)));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// A query's parameters, sorted (X-Amz-Signature comes last in Parley's URLs, sorted in the SDK's).
std::vector<std::string> params(const std::string& query) {
  std::vector<std::string> out;
  std::size_t pos = query.find('?') == std::string::npos ? 0 : query.find('?') + 1;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    out.push_back(query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "20261207T203000Z" -> "2026-12-07T20:30:00Z"
std::string iso(const std::string& amz) {
  return amz.substr(0, 4) + "-" + amz.substr(4, 2) + "-" + amz.substr(6, 2) + "T" + amz.substr(9, 2) + ":" +
         amz.substr(11, 2) + ":" + amz.substr(13, 2) + "Z";
}

// The URL without the X-Amz-* parameters, the others decoded back (as a client would pass them).
std::string without_auth(const std::string& url) {
  const auto q = url.find('?');
  std::string out = url.substr(0, q);
  std::string rest = url.substr(q + 1);
  char sep = '?';
  std::size_t pos = 0;
  while (pos <= rest.size()) {
    auto amp = rest.find('&', pos);
    std::string pair = rest.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!pair.starts_with("X-Amz-")) {
      out += sep + pair;
      sep = '&';
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return out;
}

TEST(SigV4Test, MatchesTheExampleInAwsDocumentation) {
  // "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", the GET example.
  sigv4::PresignInput in;
  in.method = "GET";
  in.scheme = "https";
  in.host = "examplebucket.s3.amazonaws.com";
  in.path = "/test.txt";
  in.access_key = "AKIAIOSFODNN7EXAMPLE";
  in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  in.region = "us-east-1";
  in.now = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));  // 2013-05-24T00:00:00Z
  in.expires = 86400s;
  EXPECT_EQ(sigv4::presign_url(in),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4Test, EncodesAsRfc3986) {
  EXPECT_EQ(sigv4::uri_encode("a-Z_0.~/b c+d%e=f&g", true), "a-Z_0.~/b%20c%2Bd%25e%3Df%26g");
  EXPECT_EQ(sigv4::uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(sigv4::uri_encode("\xC3\xA9", false), "%C3%A9");
}

TEST_F(S3StorageTest, PresignedUrlsMatchTheAwsSdkSigner) {
  auto get = store_->presign_get("app_1/odd name+1.png", "image/png", "attachment; filename=\"a b.png\"", 900s);
  ASSERT_TRUE(get);
  const std::string date = query_param(get->url, "X-Amz-Date");
  EXPECT_EQ(params(get->url), params(sdk_presign("GET", without_auth(get->url), {}, iso(date), 900))) << get->url;

  auto put = store_->presign_put("app_1/upload", 12345, "application/pdf", 300s);
  ASSERT_TRUE(put);
  EXPECT_EQ(query_param(put->url, "X-Amz-SignedHeaders"), "content-length%3Bcontent-type%3Bhost");
  EXPECT_EQ(params(put->url), params(sdk_presign("PUT", without_auth(put->url), put->headers,
                                                 iso(query_param(put->url, "X-Amz-Date")), 300)))
      << put->url;
}

// The SDK's Authorization header for a request as captured.
std::string sdk_authorization(const test::HttpRequestSeen& r, const std::string& base, const std::string& region,
                              const std::string& access_key, const std::string& secret_key) {
  if (!node_tools_installed()) return {};
  std::smatch m;
  const std::string auth = r.header("authorization");
  if (!std::regex_search(auth, m, std::regex("SignedHeaders=([^,]+)"))) return "(no SignedHeaders in " + auth + ")";
  boost::json::object headers;
  std::string names = m[1].str();
  for (std::size_t pos = 0; pos <= names.size();) {
    auto semi = names.find(';', pos);
    std::string name = names.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
    headers[name] = r.header(name);
    if (semi == std::string::npos) break;
    pos = semi + 1;
  }
  boost::json::object in{{"method", r.method}, {"url", base + r.target},  {"headers", std::move(headers)},
                         {"region", region},   {"accessKey", access_key}, {"secretKey", secret_key}};
  std::string out = run("node --no-warnings " + shell_quote((kNodeDir / "sigv4_sign.mjs").string()) + " " +
                        shell_quote(boost::json::serialize(in)));
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Every request libcurl signed for the store (a multipart upload with an upload id that needs
// encoding, a small PUT, HEAD, GET, DELETE, the bucket check) carries the Authorization header
// the AWS SDK computes for it, and an x-amz-content-sha256 that is the body's hash or
// UNSIGNED-PAYLOAD for a body streamed from a file.
TEST(S3SigningTest, LibcurlSignsEveryRequestAsTheAwsSdkDoes) {
  std::mutex mu;
  std::vector<test::HttpRequestSeen> seen;  // guarded by mu
  test::LoopbackHttpServer server([&](const test::HttpRequestSeen& r) {
    {
      std::lock_guard lock(mu);
      seen.push_back(r);
    }
    test::HttpReply reply;
    if (r.method == "POST" && r.target.ends_with("?uploads=")) {
      reply.body = "<InitiateMultipartUploadResult><UploadId>up/id+1=&amp;x</UploadId></InitiateMultipartUploadResult>";
    } else if (r.method == "PUT") {
      reply.headers = "ETag: \"etag-" + std::to_string(r.body.size()) + "\"\r\n";
    } else if (r.method == "POST") {
      reply.body = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>";
    } else if (r.method == "DELETE") {
      reply.status = 204;
      reply.reason = "No Content";
    } else if (r.method == "GET") {
      reply.body = "hello";
    }
    return reply;
  });
  S3Options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  o.region = "eu-central-1";
  o.bucket = "signed";
  o.access_key = "AKIDPARLEYTEST";
  o.secret_key = "wJalr/secret+key";
  o.multipart_threshold = 1;  // every file in parts
  o.part_size = 5u << 20;
  auto store = make_s3_storage(o);
  TempDir tmp;
  const std::string big = random_bytes((5u << 20) + 1000, 5);
  write_file(tmp.path / "big", big);
  ASSERT_TRUE(store->put_file("app_1/file big", tmp.path / "big", "image/png"));
  o.multipart_threshold = 16u << 20;
  store = make_s3_storage(o);
  write_file(tmp.path / "small", "small bytes");
  ASSERT_TRUE(store->put_file("app_1/small", tmp.path / "small", "text/plain"));
  ASSERT_TRUE(store->stat("app_1/small"));
  ASSERT_TRUE(store->get_to_file("app_1/small", tmp.path / "copy"));
  ASSERT_TRUE(store->remove("app_1/small"));
  ASSERT_TRUE(store->check());

  std::lock_guard lock(mu);
  std::vector<std::string> lines;
  for (const auto& r : seen) lines.push_back(r.method + " " + r.target);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "POST /signed/app_1/file%20big?uploads=",
                       "PUT /signed/app_1/file%20big?partNumber=1&uploadId=up%2Fid%2B1%3D%26x",
                       "PUT /signed/app_1/file%20big?partNumber=2&uploadId=up%2Fid%2B1%3D%26x",
                       "POST /signed/app_1/file%20big?uploadId=up%2Fid%2B1%3D%26x",
                       "PUT /signed/app_1/small",
                       "HEAD /signed/app_1/small",
                       "GET /signed/app_1/small",
                       "DELETE /signed/app_1/small",
                       "HEAD /signed/",
                   }));
  for (const auto& r : seen) {
    SCOPED_TRACE(r.method + " " + r.target);
    EXPECT_EQ(r.header("authorization"), sdk_authorization(r, o.endpoint, o.region, o.access_key, o.secret_key));
    const bool streamed = r.method == "PUT";
    EXPECT_EQ(r.header("x-amz-content-sha256"), streamed ? "UNSIGNED-PAYLOAD" : crypto::sha256_hex(r.body));
  }
  ASSERT_EQ(seen.size(), 9u);
  EXPECT_EQ(seen[1].body.size() + seen[2].body.size(), big.size());
  EXPECT_EQ(seen[1].body + seen[2].body, big);
  EXPECT_NE(seen[3].body.find("<Part><PartNumber>2</PartNumber><ETag>\"etag-1000\"</ETag></Part>"), std::string::npos)
      << seen[3].body;
}

// A part S3 fails ends the upload with AbortMultipartUpload, and the error carries S3's code.
TEST(S3SigningTest, AFailedPartAbortsTheMultipartUpload) {
  std::mutex mu;
  std::vector<std::string> seen;  // guarded by mu
  test::LoopbackHttpServer server([&](const test::HttpRequestSeen& r) {
    {
      std::lock_guard lock(mu);
      seen.push_back(r.method + " " + r.target);
    }
    test::HttpReply reply;
    if (r.method == "POST") {
      reply.body = "<InitiateMultipartUploadResult><UploadId>U1</UploadId></InitiateMultipartUploadResult>";
    } else if (r.target.find("partNumber=2") != std::string::npos) {
      reply.status = 503;
      reply.reason = "Slow Down";
      reply.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
    } else if (r.method == "PUT") {
      reply.headers = "ETag: \"e\"\r\n";
    } else if (r.method == "DELETE") {
      reply.status = 204;
      reply.reason = "No Content";
    }
    return reply;
  });
  S3Options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  o.bucket = "b";
  o.access_key = "AKID";
  o.secret_key = "topsecret";
  o.multipart_threshold = 1;
  o.part_size = 5u << 20;
  TempDir tmp;
  write_file(tmp.path / "f", random_bytes((10u << 20) + 1, 6));  // three parts
  auto r = make_s3_storage(o)->put_file("a/f", tmp.path / "f", "text/plain");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_NE(r.error().message.find("SlowDown (Please reduce your request rate.)"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(r.error().message.find("topsecret"), std::string::npos);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"POST /b/a/f?uploads=", "PUT /b/a/f?partNumber=1&uploadId=U1",
                                            "PUT /b/a/f?partNumber=2&uploadId=U1", "DELETE /b/a/f?uploadId=U1"}));
}

TEST(S3StorageUrlTest, VirtualHostStyleNamesTheBucketInTheHost) {
  S3Options o;
  o.endpoint = "https://s3.eu-west-1.amazonaws.com";
  o.region = "eu-west-1";
  o.bucket = "parley-files";
  o.access_key = "AKIDEXAMPLE";
  o.secret_key = "secret";
  o.path_style = false;
  auto store = make_s3_storage(o);
  EXPECT_EQ(store->describe(), "https://parley-files.s3.eu-west-1.amazonaws.com");
  auto url = store->presign_get("app_1/f", "", "", 60s);
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->url.starts_with("https://parley-files.s3.eu-west-1.amazonaws.com/app_1/f?")) << url->url;
  EXPECT_NE(url->url.find("%2Feu-west-1%2Fs3%2Faws4_request"), std::string::npos);
  EXPECT_EQ(url->url.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace parley::files
