// Files over HTTP (docs/files.md) on both storages — the local folder and a real s3rver — and on
// both stores (the suite runs again under scripts/with-postgres.sh): uploads through Parley
// (multipart, spooled) and direct (presigned PUT, then complete), sniffed types, thumbnails and
// metadata stripping, checksums, who may see a file, signed URLs (forged, expired), Range and
// ETag, attachments resolved into messages (REST and WebSocket), edits and deletes releasing
// files, avatars and channel images, per-app limits, and bad inputs. What Parley stored in S3 is
// read back with the AWS SDK (tests/node/s3_verify.mjs), not with Parley's code.
#include <openssl/evp.h>

#include <array>
#include <cstdio>
#include <regex>

#include "fixtures.hpp"
#include "ws_client.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;
const std::string kNodeDir = std::string(PARLEY_SOURCE_DIR) + "/tests/node";
constexpr const char* kBucket = "parley-files";

// --- images made here, byte by byte (no image library: independent of Parley's libvips) ---

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

void put32(std::string& s, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void chunk(std::string& png, std::string_view type, std::string_view data) {
  put32(png, static_cast<std::uint32_t>(data.size()));
  std::string body(type);
  body.append(data);
  png += body;
  put32(png, crc32(body));
}

// An RGB PNG of w x h pixels (a gradient), stored deflate blocks, with a tEXt chunk naming a
// place when `with_text` (metadata Parley must strip).
std::string make_png(int w, int h, bool with_text) {
  std::string raw;
  for (int y = 0; y < h; ++y) {
    raw.push_back(0);  // filter: none
    for (int x = 0; x < w; ++x) {
      raw.push_back(static_cast<char>(x * 255 / w));
      raw.push_back(static_cast<char>(y * 255 / h));
      raw.push_back(static_cast<char>(96));
    }
  }
  std::string z{"\x78\x01", 2};
  for (std::size_t at = 0; at < raw.size() || at == 0;) {
    std::size_t n = std::min<std::size_t>(65535, raw.size() - at);
    bool last = at + n >= raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(n & 0xff));
    z.push_back(static_cast<char>(n >> 8));
    z.push_back(static_cast<char>(~n & 0xff));
    z.push_back(static_cast<char>((~n >> 8) & 0xff));
    z.append(raw, at, n);
    at += n;
    if (last) break;
  }
  std::uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, (b << 16) | a);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  put32(ihdr, static_cast<std::uint32_t>(w));
  put32(ihdr, static_cast<std::uint32_t>(h));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB
  chunk(png, "IHDR", ihdr);
  if (with_text) chunk(png, "tEXt", std::string("Location\0Secret Garden 48.8566N 2.3522E", 39));
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

struct Part {
  std::string name;
  std::string filename;  // empty: a plain field
  std::string content_type;
  std::string data;
};

const std::string kBoundary = "----parley-test-boundary-7d3f";

std::string multipart(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"";
    body += "\r\n";
    if (!p.content_type.empty()) body += "Content-Type: " + p.content_type + "\r\n";
    body += "\r\n" + p.data + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

// "http://127.0.0.1:PORT/path?q" split into port and target.
std::pair<std::uint16_t, std::string> split_url(const std::string& url) {
  std::smatch m;
  if (!std::regex_match(url, m, std::regex(R"(http://127\.0\.0\.1:(\d+)(/.*))"))) {
    throw std::runtime_error("not a loopback URL: " + url);
  }
  return {static_cast<std::uint16_t>(std::stoi(m[1])), m[2]};
}

HttpResponse fetch(const std::string& url, Headers headers = {}) {
  auto [port, target] = split_url(url);
  HttpClient c(port);
  HttpRequest req;
  req.target = target;
  req.headers = std::move(headers);
  return c.send(req);
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The object as the AWS SDK reads it from s3rver: {"size","sha256","contentType"} or {"missing"}.
json::object s3_object(const std::string& endpoint, const std::string& key) {
  auto out = run_capture("node " + kNodeDir + "/s3_verify.mjs " + endpoint + " " + kBucket + " '" + key + "'");
  return json::parse(out).as_object();
}

class FilesTest : public AppFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  bool on_s3() const { return GetParam() == "s3"; }

  ServerProcess::Options server_options() override {
    ServerProcess::Options o;
    if (on_s3()) {
      if (!fs::exists(kNodeDir + "/node_modules/.bin/s3rver")) {
        throw std::runtime_error("s3rver is not installed: run scripts/install-test-tools.sh");
      }
      s3_ = std::make_unique<LoopbackScript>(
          std::vector<std::string>{"/usr/bin/node", kNodeDir + "/s3rver_serve.mjs", s3_dir_.str(), kBucket});
      o.flag("files-storage", "s3")
          .flag("s3-endpoint", s3_endpoint())
          .flag("s3-bucket", kBucket)
          .flag("s3-access-key", "S3RVER")
          .flag("s3-secret-key", "S3RVER");
    }
    for (const auto& [k, v] : extra_flags_) o.flag(k, v);
    return o;
  }
  void SetUp() override {
    AppFixture::SetUp();
    alice_ = mint("alice");
    bob_ = mint("bob");
    carol_ = mint("carol");
  }
  std::string s3_endpoint() const { return "http://127.0.0.1:" + std::to_string(s3_->port()); }

  HttpResponse upload(const UserTokens& who, const std::string& filename, const std::string& data,
                      const std::string& type = "application/octet-stream", const std::string& purpose = "") {
    std::vector<Part> parts;
    if (!purpose.empty()) parts.push_back({"purpose", "", "", purpose});
    parts.push_back({"file", filename, type, data});
    return http().send_raw("POST", "/v1/files", who.auth(), multipart(parts),
                           "multipart/form-data; boundary=" + kBoundary);
  }
  json::object uploaded(const UserTokens& who, const std::string& filename, const std::string& data,
                        const std::string& type = "application/octet-stream", const std::string& purpose = "") {
    auto r = upload(who, filename, data, type, purpose);
    if (r.status != 201) throw std::runtime_error("upload failed: " + r.body);
    return r.obj()["file"].as_object();
  }
  std::string create_channel(const UserTokens& who, const std::string& type, const std::string& name,
                             json::array members = {}) {
    auto r = http().post("/v1/channels", who.auth(), {{"type", type}, {"name", name}, {"members", members}});
    if (r.status != 201) throw std::runtime_error("create channel failed: " + r.body);
    return str(r.obj()["channel"].as_object()["id"]);
  }
  HttpResponse send(const UserTokens& who, const std::string& ch, json::array attachments,
                    const std::string& text = "see attached") {
    return http().post("/v1/channels/" + ch + "/messages", who.auth(),
                       {{"text", text}, {"attachments", std::move(attachments)}});
  }
  // The object key's presence as the storage holds it (the AWS SDK for S3, the folder for local).
  bool stored(const std::string& key) {
    if (on_s3()) return !s3_object(s3_endpoint(), key).contains("missing");
    return fs::exists(server().data_dir() / "files" / key);
  }

  TempDir s3_dir_;
  std::unique_ptr<LoopbackScript> s3_;
  std::map<std::string, std::string> extra_flags_;
  UserTokens alice_, bob_, carol_;
};

TEST_P(FilesTest, ImageUploadIsSniffedHashedThumbnailedAndStripped) {
  auto png = make_png(600, 400, true);
  // The client's type and name lie: the bytes decide, the name is cleaned.
  auto r = upload(alice_, "../../etc/\xe2\x80\xaepasswd.png", png, "text/html");
  ASSERT_STATUS(r, 201);
  auto f = r.obj()["file"].as_object();
  EXPECT_EQ(str(f["content_type"]), "image/png");
  EXPECT_EQ(str(f["name"]), "_.._etc_passwd.png");
  EXPECT_EQ(str(f["state"]), "ready");
  EXPECT_EQ(str(f["purpose"]), "attachment");
  EXPECT_EQ(str(f["uploader_id"]), "alice");
  EXPECT_TRUE(f["channel_id"].is_null());
  auto& image = f["image"].as_object();
  EXPECT_EQ(image["width"].as_int64(), 600);
  EXPECT_EQ(image["height"].as_int64(), 400);
  EXPECT_EQ(str(image["blurhash"]).size(), 28u);
  auto& variants = f["variants"].as_array();
  ASSERT_EQ(variants.size(), 2u);  // 64 and 256; 1024 is larger than the image
  EXPECT_EQ(str(variants[0].as_object()["name"]), "64");
  EXPECT_EQ(variants[0].as_object()["width"].as_int64(), 64);
  EXPECT_EQ(variants[1].as_object()["width"].as_int64(), 256);
  EXPECT_EQ(variants[1].as_object()["height"].as_int64(), 171);

  // The original as served: a PNG without the place, its checksum the one Parley reports.
  auto got = fetch(str(f["url"]));
  ASSERT_STATUS(got, 200);
  EXPECT_EQ(got.body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(got.body.find("Secret Garden"), std::string::npos);
  EXPECT_LT(got.body.size(), png.size());
  EXPECT_EQ(static_cast<std::int64_t>(got.body.size()), f["size"].as_int64());
  EXPECT_EQ(sha256_hex(got.body), str(f["sha256"]));
  auto thumb = fetch(str(variants[1].as_object()["url"]));
  ASSERT_STATUS(thumb, 200);
  EXPECT_EQ(thumb.body.substr(0, 4), "RIFF");
  EXPECT_EQ(thumb.body.substr(8, 4), "WEBP");
  EXPECT_EQ(static_cast<std::int64_t>(thumb.body.size()), variants[1].as_object()["size"].as_int64());

  std::string key = app_.id + "/" + str(f["id"]);
  if (on_s3()) {
    auto o = s3_object(s3_endpoint(), key);
    EXPECT_EQ(str(o["sha256"]), str(f["sha256"])) << json::serialize(o);
    EXPECT_EQ(str(o["contentType"]), "image/png");
    EXPECT_FALSE(s3_object(s3_endpoint(), key + ".256").contains("missing"));
  } else {
    EXPECT_TRUE(fs::exists(server().data_dir() / "files" / key));
  }
}

TEST_P(FilesTest, ContentHeadersRangesAndConditionalRequests) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + "\n";
  auto f = uploaded(alice_, "notes ü; 100%.txt", text, "image/png");
  EXPECT_EQ(str(f["content_type"]), "text/plain");
  EXPECT_TRUE(f["image"].is_null());
  EXPECT_EQ(sha256_hex(text), str(f["sha256"]));
  // Parley's own content URL (on S3 it redirects to a presigned GET of the bucket).
  auto id = str(f["id"]);
  std::string url = str(f["url"]);
  if (on_s3()) {
    auto r = http().get("/v1/files/" + id + "/content?app=" + app_.id + "&exp=1&sig=00");
    EXPECT_ERROR(r, 403, "forbidden");
    auto direct = fetch(url);
    ASSERT_STATUS(direct, 200);
    EXPECT_EQ(direct.body, text);
    EXPECT_EQ(direct.header("Content-Disposition").value_or(""),
              "attachment; filename=\"notes __ 100_.txt\"; filename*=UTF-8''notes%20%C3%BC%3B%20100%25.txt");
    return;
  }
  auto [port, target] = split_url(url);
  auto r = http().get(target);
  ASSERT_STATUS(r, 200);
  EXPECT_EQ(r.body, text);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "text/plain");
  EXPECT_EQ(r.header("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(r.header("Content-Disposition").value_or(""),
            "attachment; filename=\"notes __ 100_.txt\"; filename*=UTF-8''notes%20%C3%BC%3B%20100%25.txt");
  auto etag = r.header("ETag").value_or("");
  EXPECT_EQ(etag, "\"" + str(f["sha256"]) + "\"");

  HttpRequest req;
  req.target = target;
  req.headers = {{"If-None-Match", etag}};
  auto not_modified = http().send(req);
  EXPECT_STATUS(not_modified, 304);
  EXPECT_TRUE(not_modified.body.empty());

  req.headers = {{"Range", "bytes=5-14"}};
  auto part = http().send(req);
  ASSERT_STATUS(part, 206);
  EXPECT_EQ(part.body, text.substr(5, 10));
  EXPECT_EQ(part.header("Content-Range").value_or(""), "bytes 5-14/" + std::to_string(text.size()));
  req.headers = {{"Range", "bytes=-7"}};
  auto tail = http().send(req);
  ASSERT_STATUS(tail, 206);
  EXPECT_EQ(tail.body, text.substr(text.size() - 7));
  req.headers = {{"Range", "bytes=" + std::to_string(text.size() - 3) + "-"}};
  EXPECT_EQ(http().send(req).body, text.substr(text.size() - 3));
  req.headers = {{"Range", "bytes=" + std::to_string(text.size()) + "-"}};
  auto unsatisfiable = http().send(req);
  EXPECT_ERROR(unsatisfiable, 416, "range_not_satisfiable");
  EXPECT_EQ(unsatisfiable.header("Content-Range").value_or(""), "bytes */" + std::to_string(text.size()));
  req.headers = {{"Range", "bytes=0-1,5-6"}};  // several ranges: the whole file
  EXPECT_EQ(http().send(req).status, 200);
  req.headers = {{"Range", "bytes=0-3"}, {"If-Range", "\"stale\""}};
  EXPECT_EQ(http().send(req).status, 200);

  // Forged, expired, missing or moved signatures.
  std::string forged = std::regex_replace(target, std::regex("sig=[0-9a-f]"), "sig=x");
  EXPECT_ERROR(http().get(forged), 403, "forbidden");
  std::string later = std::regex_replace(target, std::regex("exp=(\\d+)"), "exp=99999999999");
  EXPECT_ERROR(http().get(later), 403, "forbidden");
  std::string expired = std::regex_replace(target, std::regex("exp=(\\d+)"), "exp=1000");
  EXPECT_ERROR(http().get(expired), 403, "forbidden");
  EXPECT_ERROR(http().get("/v1/files/" + id + "/content?app=" + app_.id), 403, "forbidden");
  EXPECT_ERROR(http().get(target + "&v=256"), 403, "forbidden");  // the variant is signed too
  auto other_app = create_app("other");
  std::string moved = std::regex_replace(target, std::regex("app=[^&]+"), "app=" + other_app.id);
  EXPECT_ERROR(http().get(moved), 404, "not_found");
  EXPECT_ERROR(http().get("/v1/files/..%2F..%2Fparley.db/content?app=" + app_.id), 404, "not_found");
  // download=1 asks for an attachment; an image is inline otherwise.
  auto img = uploaded(alice_, "p.png", make_png(20, 10, false));
  auto [p2, img_target] = split_url(str(img["url"]));
  EXPECT_EQ(http().get(img_target).header("Content-Disposition").value_or("").substr(0, 7), "inline;");
}

TEST_P(FilesTest, HtmlAndSvgAreNeverShownInline) {
  auto html = uploaded(alice_, "page.png", "<!DOCTYPE html><html><script>alert(1)</script></html>", "image/png");
  EXPECT_EQ(str(html["content_type"]), "text/html");
  auto got = fetch(str(html["url"]));
  ASSERT_STATUS(got, 200);
  EXPECT_EQ(got.header("Content-Disposition").value_or("").substr(0, 11), "attachment;");
  auto svg =
      uploaded(alice_, "x.svg",
               "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
               "image/svg+xml");
  EXPECT_TRUE(svg["image"].is_null());
  EXPECT_EQ(fetch(str(svg["url"])).header("Content-Disposition").value_or("").substr(0, 11), "attachment;");
}

TEST_P(FilesTest, DirectUploadThenComplete) {
  std::string data(300000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 251);
  auto r = http().post("/v1/files/uploads", alice_.auth(),
                       {{"name", "big.bin"}, {"size", data.size()}, {"content_type", "application/octet-stream"}});
  ASSERT_STATUS(r, 201);
  auto f = r.obj()["file"].as_object();
  EXPECT_EQ(str(f["state"]), "pending");
  EXPECT_TRUE(f["url"].is_null());
  auto id = str(f["id"]);
  auto up = r.obj()["upload"].as_object();
  EXPECT_EQ(str(up["method"]), "PUT");
  if (on_s3()) {
    EXPECT_EQ(str(up["url"]).rfind(s3_endpoint(), 0), 0u) << str(up["url"]);
  } else {
    EXPECT_NE(str(up["url"]).find("/v1/files/" + id + "/upload?"), std::string::npos);
  }
  // Completing before the bytes are there: 422.
  EXPECT_ERROR(http().post("/v1/files/" + id + "/complete", alice_.auth()), 422, "validation_failed");
  // Someone else cannot complete it.
  EXPECT_ERROR(http().post("/v1/files/" + id + "/complete", bob_.auth()), 404, "not_found");

  auto [port, target] = split_url(str(up["url"]));
  HttpClient put(port);
  HttpRequest req;
  req.method = "PUT";
  req.target = target;
  req.body = data;
  req.content_type = "";
  for (const auto& [k, v] : up["headers"].as_object()) req.headers.emplace_back(k, str(v));
  if (!on_s3()) {
    // The local endpoint holds to the contract: a wrong size or a forged signature is refused.
    HttpRequest wrong = req;
    wrong.body = data.substr(1);
    EXPECT_ERROR(put.send(wrong), 422, "validation_failed");
    HttpRequest forged = req;
    forged.target = std::regex_replace(target, std::regex("sig=[0-9a-f]{4}"), "sig=0000");
    EXPECT_ERROR(put.send(forged), 403, "forbidden");
  }
  auto sent = put.send(req);
  EXPECT_TRUE(sent.status == 200 || sent.status == 204) << sent.status << " " << sent.body;

  auto done = http().post("/v1/files/" + id + "/complete", alice_.auth());
  ASSERT_STATUS(done, 200);
  auto ready = done.obj()["file"].as_object();
  EXPECT_EQ(str(ready["state"]), "ready");
  EXPECT_EQ(str(ready["sha256"]), sha256_hex(data));
  EXPECT_EQ(str(ready["content_type"]), "application/octet-stream");
  EXPECT_EQ(fetch(str(ready["url"])).body, data);
  // Completing again answers the same file.
  EXPECT_STATUS(http().post("/v1/files/" + id + "/complete", alice_.auth()), 200);

  // An upload of the wrong size is refused at completion and removed.
  auto small = http().post("/v1/files/uploads", alice_.auth(), {{"name", "s.bin"}, {"size", 10}});
  ASSERT_STATUS(small, 201);
  auto sid = str(small.obj()["file"].as_object()["id"]);
  if (on_s3()) {
    auto [p, t] = split_url(str(small.obj()["upload"].as_object()["url"]));
    HttpClient c(p);
    HttpRequest bad;
    bad.method = "PUT";
    bad.target = t;
    bad.body = "only five";
    bad.content_type = "";
    for (const auto& [k, v] : small.obj()["upload"].as_object()["headers"].as_object()) {
      bad.headers.emplace_back(k, str(v));
    }
    auto res = c.send(bad);
    // S3 refuses a body other than the signed Content-Length, or Parley does at completion.
    if (res.status < 300) {
      EXPECT_ERROR(http().post("/v1/files/" + sid + "/complete", alice_.auth()), 422, "validation_failed");
    }
  }
  // Bad requests.
  EXPECT_ERROR(http().post("/v1/files/uploads", alice_.auth(), {{"name", "x"}}), 400, "invalid_request");
  EXPECT_ERROR(http().post("/v1/files/uploads", alice_.auth(), {{"name", "x"}, {"size", 0}}), 422, "validation_failed");
  EXPECT_ERROR(http().post("/v1/files/uploads", alice_.auth(), {{"name", "x"}, {"size", 1}, {"purpose", "nope"}}), 422,
               "validation_failed");
  EXPECT_ERROR(http().post("/v1/files/uploads", alice_.auth(), {{"name", "x"}, {"size", std::int64_t{1} << 40}}), 413,
               "payload_too_large");
}

TEST_P(FilesTest, AttachmentsAreResolvedAndControlWhoSeesTheFile) {
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto f = uploaded(alice_, "plan.txt", "the plan\n");
  auto id = str(f["id"]);
  // Before it is attached, only the uploader sees it.
  EXPECT_ERROR(http().get("/v1/files/" + id, bob_.auth()), 404, "not_found");
  // Another user cannot attach it; unknown and malformed ids are refused.
  EXPECT_ERROR(send(bob_, ch, {json::object{{"file_id", id}}}), 422, "validation_failed");
  EXPECT_ERROR(send(alice_, ch, {json::object{{"file_id", "f_nope"}}}), 422, "validation_failed");
  EXPECT_ERROR(send(alice_, ch, {json::object{{"file_id", 7}}}), 400, "invalid_request");
  EXPECT_ERROR(send(alice_, ch, {json::object{{"file_id", id}}, json::object{{"file_id", id}}}), 422,
               "validation_failed");

  // Parley fills the metadata in; what the client claims is not kept.
  auto r = send(alice_, ch, {json::object{{"file_id", id}, {"name", "evil.exe"}, {"size", 1}}, json::object{{"x", 1}}});
  ASSERT_STATUS(r, 201);
  auto msg = r.obj()["message"].as_object();
  auto seq = msg["seq"].as_int64();
  auto& att = msg["attachments"].as_array();
  ASSERT_EQ(att.size(), 2u);
  auto a0 = att[0].as_object();
  EXPECT_EQ(str(a0["type"]), "file");
  EXPECT_EQ(str(a0["file_id"]), id);
  EXPECT_EQ(str(a0["name"]), "plan.txt");
  EXPECT_EQ(a0["size"].as_int64(), 9);
  EXPECT_EQ(str(a0["content_type"]), "text/plain");
  EXPECT_FALSE(a0.contains("url"));
  EXPECT_EQ(att[1].as_object()["x"].as_int64(), 1);

  // Now members of the channel see it; a non-member and another app do not.
  auto seen = http().get("/v1/files/" + id, bob_.auth());
  ASSERT_STATUS(seen, 200);
  EXPECT_EQ(str(seen.obj()["file"].as_object()["channel_id"]), ch);
  EXPECT_EQ(fetch(str(seen.obj()["file"].as_object()["url"])).body, "the plan\n");
  EXPECT_ERROR(http().get("/v1/files/" + id, carol_.auth()), 404, "not_found");
  auto other = create_app("other");
  auto mallory = mint(other, "alice");
  EXPECT_ERROR(http().get("/v1/files/" + id, mallory.auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/files/" + id, mallory.auth()), 404, "not_found");
  auto many = http().get("/v1/files?ids=" + id + ",f_missing", bob_.auth());
  ASSERT_STATUS(many, 200);
  ASSERT_EQ(many.obj()["files"].as_array().size(), 1u);
  EXPECT_EQ(http().get("/v1/files?ids=" + id, carol_.auth()).obj()["files"].as_array().size(), 0u);

  // Attached once only; while attached it cannot be deleted directly.
  EXPECT_ERROR(send(alice_, ch, {json::object{{"file_id", id}}}), 422, "validation_failed");
  EXPECT_ERROR(http().del("/v1/files/" + id, alice_.auth()), 409, "conflict");

  // An edit may keep it (the stored item names it again) and add another; dropping releases.
  auto g = uploaded(alice_, "more.txt", "more\n");
  auto edit = http().patch("/v1/channels/" + ch + "/messages/" + std::to_string(seq), alice_.auth(),
                           {{"text", "edited"}, {"attachments", json::array{a0, json::object{{"file_id", g["id"]}}}}});
  ASSERT_STATUS(edit, 200);
  EXPECT_EQ(edit.obj()["message"].as_object()["attachments"].as_array().size(), 2u);
  EXPECT_STATUS(http().get("/v1/files/" + str(g["id"]), bob_.auth()), 200);
  auto drop =
      http().patch("/v1/channels/" + ch + "/messages/" + std::to_string(seq), alice_.auth(),
                   {{"text", "edited again"}, {"attachments", json::array{json::object{{"file_id", g["id"]}}}}});
  ASSERT_STATUS(drop, 200);
  EXPECT_ERROR(http().get("/v1/files/" + id, alice_.auth()), 404, "not_found");
  EXPECT_FALSE(stored(app_.id + "/" + id));

  // Deleting the message releases the rest: the row and the bytes.
  EXPECT_TRUE(stored(app_.id + "/" + str(g["id"])));
  EXPECT_STATUS(http().del("/v1/channels/" + ch + "/messages/" + std::to_string(seq), alice_.auth()), 204);
  EXPECT_ERROR(http().get("/v1/files/" + str(g["id"]), alice_.auth()), 404, "not_found");
  EXPECT_FALSE(stored(app_.id + "/" + str(g["id"])));
}

TEST_P(FilesTest, PublicChannelFilesAndChannelDeletion) {
  auto ch = create_channel(alice_, "public", "Lobby");
  auto f = uploaded(alice_, "pic.png", make_png(80, 80, false));
  ASSERT_STATUS(send(alice_, ch, {json::object{{"file_id", f["id"]}}}), 201);
  // Anyone in the app may read a public channel, so may see its files.
  EXPECT_STATUS(http().get("/v1/files/" + str(f["id"]), carol_.auth()), 200);
  EXPECT_STATUS(http().del("/v1/channels/" + ch, alice_.auth()), 204);
  EXPECT_ERROR(http().get("/v1/files/" + str(f["id"]), alice_.auth()), 404, "not_found");
  EXPECT_FALSE(stored(app_.id + "/" + str(f["id"])));
  EXPECT_FALSE(stored(app_.id + "/" + str(f["id"]) + ".64"));
}

TEST_P(FilesTest, WebSocketSendsResolveAttachments) {
  auto ch = create_channel(alice_, "group", "Pair", {"bob"});
  auto f = uploaded(alice_, "a.txt", "hello\n");
  WsClient ws(server().port());
  ASSERT_EQ(ws.connect("/v1/ws?token=" + url_encode(alice_.access)), 101) << ws.error();
  ASSERT_TRUE(ws.next_frame().has_value());  // hello
  json::object cmd{{"type", "message.send"},
                   {"channel_id", ch},
                   {"text", "file"},
                   {"client_msg_id", "c-1"},
                   {"attachments", json::array{json::object{{"file_id", f["id"]}}}}};
  auto ack = ws.command(cmd);
  ASSERT_TRUE(ack.has_value());
  ASSERT_EQ(str((*ack)["type"]), "ack") << json::serialize(*ack);
  auto att = (*ack)["data"].as_object()["message"].as_object()["attachments"].as_array();
  ASSERT_EQ(att.size(), 1u);
  EXPECT_EQ(str(att[0].as_object()["name"]), "a.txt");
  // A retried send (same client_msg_id) is the same message, not "attached elsewhere".
  cmd.erase("id");
  auto again = ws.command(cmd);
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(str((*again)["type"]), "ack") << json::serialize(*again);
  EXPECT_EQ((*again)["data"].as_object()["duplicate"], true);
  EXPECT_STATUS(http().get("/v1/files/" + str(f["id"]), bob_.auth()), 200);
  // Someone else's file over the socket: an error frame.
  auto g = uploaded(bob_, "b.txt", "bob's\n");
  auto bad = ws.command({{"type", "message.send"},
                         {"channel_id", ch},
                         {"text", "steal"},
                         {"attachments", json::array{json::object{{"file_id", g["id"]}}}}});
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(str((*bad)["type"]), "error");
}

TEST_P(FilesTest, AvatarsAndChannelImages) {
  auto avatar = uploaded(alice_, "me.png", make_png(300, 300, true), "image/png", "avatar");
  EXPECT_EQ(str(avatar["purpose"]), "avatar");
  EXPECT_TRUE(avatar["url_expires_at"].is_null());
  // An avatar must be an image, and an attachment is not an avatar.
  EXPECT_ERROR(upload(alice_, "me.txt", "text", "text/plain", "avatar"), 422, "validation_failed");
  auto attachment = uploaded(alice_, "a.png", make_png(10, 10, false));
  EXPECT_ERROR(http().patch("/v1/users/me", alice_.auth(), {{"image_file_id", attachment["id"]}}), 422,
               "validation_failed");
  EXPECT_ERROR(http().patch("/v1/users/me", bob_.auth(), {{"image_file_id", avatar["id"]}}), 422, "validation_failed");
  EXPECT_ERROR(
      http().patch("/v1/users/me", alice_.auth(), {{"image_file_id", avatar["id"]}, {"image_url", "https://x.test/a"}}),
      422, "validation_failed");

  auto r = http().patch("/v1/users/me", alice_.auth(), {{"image_file_id", avatar["id"]}});
  ASSERT_STATUS(r, 200);
  auto image_url = str(r.obj()["user"].as_object()["image_url"]);
  EXPECT_NE(image_url.find("/v1/files/" + str(avatar["id"]) + "/content"), std::string::npos);
  EXPECT_EQ(image_url.find("sig="), std::string::npos);  // stable: no signature, no expiry
  // Anyone may fetch it, without a token; it is the 256 px thumbnail, metadata-free.
  auto [port, target] = split_url(image_url);
  auto got = http().get(target);
  if (on_s3()) {  // Parley's stable URL redirects to a short-lived presigned GET of the bucket
    ASSERT_STATUS(got, 302);
    got = fetch(got.header("Location").value_or(""));
  }
  ASSERT_STATUS(got, 200);
  EXPECT_EQ(got.body.substr(8, 4), "WEBP");
  EXPECT_STATUS(http().get("/v1/files/" + str(avatar["id"]), carol_.auth()), 200);

  // The avatar in use cannot be deleted; a new avatar releases the old one.
  EXPECT_ERROR(http().del("/v1/files/" + str(avatar["id"]), alice_.auth()), 409, "conflict");
  auto second = uploaded(alice_, "me2.png", make_png(100, 100, false), "image/png", "avatar");
  ASSERT_STATUS(http().patch("/v1/users/me", alice_.auth(), {{"image_file_id", second["id"]}}), 200);
  EXPECT_ERROR(http().get("/v1/files/" + str(avatar["id"]), alice_.auth()), 404, "not_found");
  EXPECT_FALSE(stored(app_.id + "/" + str(avatar["id"])));

  // Channel images, the same way, by a member.
  auto ch = create_channel(alice_, "group", "Team", {"bob"});
  auto pic = uploaded(alice_, "team.png", make_png(64, 64, false), "image/png", "channel_image");
  // Only those who may update the channel; only the uploader's own image.
  EXPECT_ERROR(http().patch("/v1/channels/" + ch, bob_.auth(), {{"image_file_id", pic["id"]}}), 422,
               "validation_failed");
  auto bobs = uploaded(bob_, "bob.png", make_png(64, 64, false), "image/png", "channel_image");
  EXPECT_ERROR(http().patch("/v1/channels/" + ch, bob_.auth(), {{"image_file_id", bobs["id"]}}), 403, "forbidden");
  auto c = http().patch("/v1/channels/" + ch, alice_.auth(), {{"image_file_id", pic["id"]}});
  ASSERT_STATUS(c, 200);
  EXPECT_NE(str(c.obj()["channel"].as_object()["image_url"]).find(str(pic["id"])), std::string::npos);
  EXPECT_ERROR(http().patch("/v1/channels/" + ch, carol_.auth(), {{"image_file_id", pic["id"]}}), 404, "not_found");
}

TEST_P(FilesTest, PerAppLimitsTypesAndQuota) {
  auto strict = create_app("strict", {{"files_max_bytes", 1000},
                                      {"files_allowed_types", json::array{"image/*", "application/pdf"}},
                                      {"files_quota_bytes", 3000}});
  auto dana = mint(strict, "dana");
  EXPECT_ERROR(upload(dana, "big.png", std::string(1500, 'a')), 413, "payload_too_large");
  EXPECT_ERROR(upload(dana, "a.txt", "plain text", "image/png"), 415, "unsupported_media_type");
  EXPECT_ERROR(http().post("/v1/files/uploads", dana.auth(), {{"name", "b.bin"}, {"size", 5000}}), 413,
               "payload_too_large");
  auto png = make_png(8, 8, false);
  ASSERT_LT(png.size(), 1000u);
  int ok = 0;
  HttpResponse last;
  for (int i = 0; i < 20; ++i) {
    last = upload(dana, "p.png", png);
    if (last.status != 201) break;
    ++ok;
  }
  EXPECT_GT(ok, 0);
  EXPECT_LT(ok, 20);
  EXPECT_ERROR(last, 409, "conflict");
  EXPECT_EQ(error_detail(last, "reason"), "quota");
  // Bad settings are refused.
  EXPECT_ERROR(http().patch("/v1/admin/apps/" + strict.id, admin_auth(),
                            {{"settings", {{"files_allowed_types", json::array{"not a type"}}}}}),
               400, "invalid_request");
}

TEST_P(FilesTest, BadUploadsAndRequests) {
  // Not multipart; no file part; a file part under another name; a bad purpose.
  EXPECT_ERROR(http().send_raw("POST", "/v1/files", alice_.auth(), "{}", "application/json"), 415,
               "unsupported_media_type");
  auto no_file = http().send_raw("POST", "/v1/files", alice_.auth(), multipart({{"purpose", "", "", "avatar"}}),
                                 "multipart/form-data; boundary=" + kBoundary);
  EXPECT_ERROR(no_file, 400, "invalid_request");
  auto wrong_name = http().send_raw("POST", "/v1/files", alice_.auth(), multipart({{"upload", "a.txt", "", "x"}}),
                                    "multipart/form-data; boundary=" + kBoundary);
  EXPECT_ERROR(wrong_name, 400, "invalid_request");
  EXPECT_ERROR(upload(alice_, "a.txt", "x", "text/plain", "bogus"), 422, "validation_failed");
  EXPECT_ERROR(upload(alice_, "empty.txt", ""), 422, "validation_failed");
  auto truncated = http().send_raw("POST", "/v1/files", alice_.auth(),
                                   "--" + kBoundary +
                                       "\r\nContent-Disposition: form-data; name=\"file\"; "
                                       "filename=\"a\"\r\n\r\nno end",
                                   "multipart/form-data; boundary=" + kBoundary);
  EXPECT_GE(truncated.status, 400);
  EXPECT_LT(truncated.status, 500);
  // A broken image is refused, not stored.
  auto broken = make_png(50, 50, false).substr(0, 120);
  EXPECT_ERROR(upload(alice_, "broken.png", broken), 422, "validation_failed");
  // Without a token; with app credentials.
  EXPECT_ERROR(http().send_raw("POST", "/v1/files", Auth::none(), multipart({{"file", "a", "", "x"}}),
                               "multipart/form-data; boundary=" + kBoundary),
               401, "unauthorized");
  EXPECT_ERROR(http().get("/v1/files?ids=a", app_.auth()), 403, "forbidden");
  // ids lists.
  EXPECT_ERROR(http().get("/v1/files", alice_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/files?ids=a,,b", alice_.auth()), 400, "invalid_request");
  std::string many;
  for (int i = 0; i < 101; ++i) many += (i ? "," : "") + std::string("f_") + std::to_string(i);
  EXPECT_ERROR(http().get("/v1/files?ids=" + many, alice_.auth()), 400, "invalid_request");
  EXPECT_ERROR(http().get("/v1/files/f_missing", alice_.auth()), 404, "not_found");
  EXPECT_ERROR(http().del("/v1/files/f_missing", alice_.auth()), 404, "not_found");
  // The uploader deletes an unattached file: the row and the bytes go.
  auto f = uploaded(alice_, "gone.txt", "bye\n");
  EXPECT_ERROR(http().del("/v1/files/" + str(f["id"]), bob_.auth()), 404, "not_found");
  EXPECT_STATUS(http().del("/v1/files/" + str(f["id"]), alice_.auth()), 204);
  EXPECT_FALSE(stored(app_.id + "/" + str(f["id"])));
}

TEST_P(FilesTest, HealthReportsTheStorage) {
  auto r = http().get("/health/detailed");
  ASSERT_STATUS(r, 200);
  auto files = r.obj()["checks"].as_object()["files"].as_object();
  EXPECT_EQ(str(files["status"]), "ok");
  EXPECT_EQ(str(files["storage"]), GetParam());
  if (on_s3()) {
    EXPECT_NE(str(files["target"]).find(kBucket), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, FilesTest, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

// The server's own upload limit: the body is refused as it arrives (413), independent of and
// larger than the JSON body limit.
class FilesLimitTest : public AppFixture {
 protected:
  ServerProcess::Options server_options() override {
    return ServerProcess::Options{}.flag("files-max-mb", "1").flag("max-body-bytes", "65536");
  }
};

TEST_F(FilesLimitTest, UploadsHaveTheirOwnBodyLimit) {
  auto alice = mint("alice");
  std::string half(600000, 'z');  // over the JSON body limit, under the upload limit
  auto body = multipart({{"file", "half.bin", "", half}});
  auto ok = http().send_raw("POST", "/v1/files", alice.auth(), body, "multipart/form-data; boundary=" + kBoundary);
  ASSERT_STATUS(ok, 201);
  EXPECT_EQ(str(ok.obj()["file"].as_object()["sha256"]), sha256_hex(half));
  // Over it: refused from the head, before the body is read.
  RawSocket raw(server().port());
  ASSERT_TRUE(raw.send("POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice.access +
                       "\r\nContent-Type: multipart/form-data; boundary=" + kBoundary +
                       "\r\nContent-Length: " + std::to_string(2 << 20) + "\r\n\r\n"));
  auto r = raw.read_response();
  ASSERT_TRUE(r.has_value());
  EXPECT_ERROR(*r, 413, "payload_too_large");
  // Spool files do not pile up.
  http().disconnect();
  EXPECT_TRUE(eventually([&] {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(server().data_dir() / "tmp")) n += e.is_regular_file() ? 1 : 0;
    return n == 0;
  }));
}

}  // namespace
}  // namespace parley::test
