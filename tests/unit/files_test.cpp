// The files module below HTTP: multipart/form-data read from a spool file (boundaries split
// across reads, look-alike boundaries in the data, malformed forms), streamed SHA-256, safe
// file names and Content-Disposition, the local store (keys cannot leave its folder), and the
// FileService on SQLite and, when PARLEY_TEST_PG_URL is set, PostgreSQL: limits, quota, the
// clean-up of orphans and abandoned direct uploads, attach/release. The HTTP contract end to
// end, on both storages, is tests/integration/files_test.cpp.
#include <gtest/gtest.h>

#include <fstream>

#include "config/config.hpp"
#include "files/checksum.hpp"
#include "files/file_service.hpp"
#include "files/multipart.hpp"
#include "scratch_database.hpp"
#include "store/store.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::files {
namespace {

namespace fs = std::filesystem;

class Folder {
 public:
  Folder() : path_(fs::temp_directory_path() / ("parley-files-" + crypto::random_id("", 12))) {
    fs::create_directories(path_);
  }
  ~Folder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Folder(const Folder&) = delete;
  Folder& operator=(const Folder&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const std::string kB = "XyZ-boundary-42";

std::string form(const std::string& file_data, const std::string& filename = "a.bin",
                 const std::string& extra_fields = "") {
  return extra_fields + "--" + kB + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + file_data + "\r\n--" + kB + "--\r\n";
}

std::string field(const std::string& name, const std::string& value) {
  return "--" + kB + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}

TEST(MultipartTest, BoundaryFromTheContentType) {
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(form_boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(form_boundary("multipart/form-data"));
  EXPECT_FALSE(form_boundary("application/json; boundary=abc"));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(form_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));  // RFC 2046: ≤ 70
}

TEST(MultipartTest, ReadsFieldsAndStreamsTheFileWithItsChecksum) {
  Folder dir;
  // Larger than any read buffer, with boundary look-alikes inside the data.
  std::string data;
  for (int i = 0; i < 200000; ++i) data.push_back(static_cast<char>(i * 7 % 251));
  data.insert(1000, "\r\n--" + kB.substr(0, 10));
  data.insert(70000, "--" + kB + "--");
  write(dir.path() / "body", form(data, "photo \xc3\xa9.jpg", field("purpose", "avatar") + field("note", "")));
  auto got = read_multipart(dir.path() / "body", kB, dir.path() / "out");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->file);
  EXPECT_EQ(got->file->field, "file");
  EXPECT_EQ(got->file->filename, "photo \xc3\xa9.jpg");
  EXPECT_EQ(got->file->content_type, "application/octet-stream");
  EXPECT_EQ(got->file->size, data.size());
  EXPECT_EQ(read(dir.path() / "out"), data);
  EXPECT_EQ(got->file->sha256, *sha256_file(dir.path() / "out"));
  EXPECT_EQ(got->fields.at("purpose"), "avatar");
  EXPECT_EQ(got->fields.at("note"), "");
}

TEST(MultipartTest, EveryBoundarySplitPointReadsTheSame) {
  // Small bodies read in one go; the reader's chunking is exercised by sizes around its buffer.
  Folder dir;
  for (std::size_t n : {0u, 1u, 63u, 64u, 65535u, 65536u, 65537u, 131071u}) {
    std::string data(n, 'q');
    write(dir.path() / "body", form(data));
    auto got = read_multipart(dir.path() / "body", kB, dir.path() / "out");
    ASSERT_TRUE(got) << n << ": " << got.error().message;
    ASSERT_TRUE(got->file);
    EXPECT_EQ(got->file->size, n);
    EXPECT_EQ(read(dir.path() / "out"), data);
  }
}

TEST(MultipartTest, MalformedFormsAreClearErrors) {
  Folder dir;
  auto try_body = [&](const std::string& body) {
    write(dir.path() / "body", body);
    return read_multipart(dir.path() / "body", kB, dir.path() / "out");
  };
  EXPECT_FALSE(try_body(""));
  EXPECT_FALSE(try_body("no boundary here"));
  EXPECT_FALSE(try_body("--" + kB + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\ncut"));
  // After the closing delimiter comes the epilogue, which is ignored (RFC 2046).
  auto epilogue = try_body(form("a") + "--" + kB + "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny");
  ASSERT_TRUE(epilogue);
  EXPECT_EQ(epilogue->fields.count("x"), 0u);
  std::string two_files = "--" + kB + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\na\r\n" +
                          "--" + kB + "\r\nContent-Disposition: form-data; name=\"f2\"; filename=\"b\"\r\n\r\nb\r\n" +
                          "--" + kB + "--\r\n";
  auto two = try_body(two_files);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, Errc::invalid_request);
  std::string many;
  for (int i = 0; i < 20; ++i) many += field("f" + std::to_string(i), "v");
  EXPECT_FALSE(try_body(form("x", "a", many)));
  EXPECT_FALSE(try_body(form("x", "a", field("big", std::string(5000, 'v')))));
  std::string no_disposition = "--" + kB + "\r\nContent-Type: text/plain\r\n\r\nx\r\n--" + kB + "--\r\n";
  EXPECT_FALSE(try_body(no_disposition));
  std::string long_head = "--" + kB + "\r\nX-Pad: " + std::string(10000, 'p') + "\r\n\r\nx\r\n--" + kB + "--\r\n";
  EXPECT_FALSE(try_body(long_head));
}

TEST(ChecksumTest, StreamedSha256MatchesKnownDigests) {
  Sha256 h;
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Folder dir;
  write(dir.path() / "empty", "");
  EXPECT_EQ(*sha256_file(dir.path() / "empty"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_FALSE(sha256_file(dir.path() / "missing"));
}

TEST(FileNameTest, NamesAreCleanedForKeepingAndShowing) {
  EXPECT_EQ(clean_filename("report.pdf"), "report.pdf");
  EXPECT_EQ(clean_filename("../../etc/passwd"), "_.._etc_passwd");
  EXPECT_EQ(clean_filename("C:\\Users\\me\\x.txt"), "C:_Users_me_x.txt");
  EXPECT_EQ(clean_filename("evil\xe2\x80\xaegpj.exe"), "evilgpj.exe");  // right-to-left override
  EXPECT_EQ(clean_filename(std::string("a\0b\r\n\tc", 7)), "abc");
  EXPECT_EQ(clean_filename("bad\xff\xfeutf8"), "badutf8");
  EXPECT_EQ(clean_filename("\xc0\xaf"), "file");  // overlong '/'
  EXPECT_EQ(clean_filename("   "), "file");
  EXPECT_EQ(clean_filename(".hidden"), "hidden");
  EXPECT_EQ(clean_filename(""), "file");
  std::string long_name(300, 'a');
  EXPECT_EQ(clean_filename(long_name).size(), 255u);
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";  // 2 bytes each: cut on a character
  auto cut = clean_filename(accents);
  EXPECT_LE(cut.size(), 255u);
  EXPECT_EQ(cut.size() % 2, 0u);
}

TEST(FileNameTest, ContentDispositionHasAnAsciiAndAnEncodedName) {
  EXPECT_EQ(content_disposition(true, "a.png"), "inline; filename=\"a.png\"; filename*=UTF-8''a.png");
  EXPECT_EQ(content_disposition(false, "r\xc3\xa9sum\xc3\xa9 \"1\";.pdf"),
            "attachment; filename=\"r_sum_ _1__.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%3B.pdf");
  EXPECT_EQ(content_disposition(false, "\xe6\x97\xa5\xe6\x9c\xac"),
            "attachment; filename=\"__\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC");
}

TEST(LocalStorageTest, StoresStatsRemovesAndStaysInItsFolder) {
  Folder dir;
  auto store = make_local_storage(dir.path() / "files");
  EXPECT_EQ(store->kind(), "local");
  EXPECT_TRUE(store->check());
  write(dir.path() / "src", "bytes");
  ASSERT_TRUE(store->put_file("app_1/f_1", dir.path() / "src", "text/plain"));
  EXPECT_EQ(store->stat("app_1/f_1")->size, 5u);
  EXPECT_EQ(read(*store->local_path("app_1/f_1")), "bytes");
  auto copy = dir.path() / "copy";
  ASSERT_TRUE(store->get_to_file("app_1/f_1", copy));
  EXPECT_EQ(read(copy), "bytes");
  EXPECT_FALSE(store->presign_get("app_1/f_1", "text/plain", "inline", std::chrono::seconds(60)));
  EXPECT_TRUE(store->remove("app_1/f_1"));
  EXPECT_TRUE(store->remove("app_1/f_1"));  // already gone: fine
  EXPECT_EQ(store->stat("app_1/f_1").error().code, Errc::not_found);
  for (const char* bad : {"../x", "app_1/../../x", "/etc/passwd", "app_1/f_1/..", "", "a\\b"}) {
    EXPECT_FALSE(store->stat(bad)) << bad;
    EXPECT_FALSE(store->local_path(bad)) << bad;
  }
}

class FileServiceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<test::ScratchDatabase>(GetParam(), "files");
    if (!db_->available()) GTEST_SKIP() << "PARLEY_TEST_PG_URL not set";
    store_ = store::open_store(db_->url(), 2);
    storage_ = make_local_storage(dir_.path() / "files");
    FilesOptions o;
    o.max_bytes = 1 << 20;
    o.orphan_ttl = std::chrono::seconds(3600);
    o.pending_ttl = std::chrono::seconds(600);
    o.work_dir = dir_.path() / "tmp";
    files_ = std::make_unique<FileService>(store_->database(), *storage_, o);
    ASSERT_TRUE(files_->init());
    tenancy_ = std::make_unique<tenancy::TenancyService>(*store_, cfg_);
    app_ = make_app({});
  }
  void TearDown() override {
    files_.reset();
    tenancy_.reset();
    store_.reset();
    db_.reset();
  }
  tenancy::App make_app(const boost::json::object& settings) {
    auto created = tenancy_->create_app("files", settings, {"test", std::nullopt});
    if (!created) throw std::runtime_error(created.error().message);
    return tenancy::App(created->app);
  }
  Result<FileRecord> upload(const tenancy::App& app, const std::string& data, const std::string& name = "a.txt") {
    auto body = dir_.path() / ("body-" + crypto::random_id("", 8));
    write(body, form(data, name));
    return files_->upload_form(app, "alice", body.string(), "multipart/form-data; boundary=" + kB);
  }
  std::size_t rows() {
    auto n = store_->database().with_conn([](store::sql::Connection& c) -> Result<std::int64_t> {
      auto st = c.prepare("SELECT count(*) FROM files");
      st->step();
      return st->int64(0);
    });
    return n ? static_cast<std::size_t>(*n) : 0;
  }

  Folder dir_;
  Config cfg_;
  std::unique_ptr<test::ScratchDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<FileService> files_;
  std::unique_ptr<tenancy::TenancyService> tenancy_;
  tenancy::App app_{store::AppRecord{}};
};

TEST_P(FileServiceTest, UploadSniffsHashesAndStores) {
  auto f = upload(app_, "hello world\n", "../n.txt");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->content_type, "text/plain");
  EXPECT_EQ(f->name, "_n.txt");
  EXPECT_EQ(f->size, 12u);
  EXPECT_EQ(f->sha256, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
  EXPECT_TRUE(f->ready);
  EXPECT_EQ(read(*storage_->local_path(app_.id + "/" + f->id)), "hello world\n");
  auto again = files_->get(app_, "alice", f->id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sha256, f->sha256);
  EXPECT_EQ(files_->get(app_, "bob", f->id).error().code, Errc::not_found);
  auto other = make_app({});
  EXPECT_EQ(files_->get(other, "alice", f->id).error().code, Errc::not_found);
  // Nothing is left behind in the work folder.
  std::size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir_.path() / "tmp")) left += e.path().filename() != "" ? 1 : 0;
  EXPECT_EQ(left, 0u);
}

TEST_P(FileServiceTest, LimitsTypesAndQuotaPerApp) {
  auto strict = make_app(
      {{"files_max_bytes", 10}, {"files_allowed_types", boost::json::array{"image/*"}}, {"files_quota_bytes", 100}});
  EXPECT_EQ(upload(strict, std::string(11, 'a')).error().code, Errc::payload_too_large);
  EXPECT_EQ(upload(strict, "plain").error().code, Errc::unsupported_media_type);
  EXPECT_EQ(upload(app_, "").error().code, Errc::validation_failed);
  auto roomy = make_app({{"files_quota_bytes", 25}});
  ASSERT_TRUE(upload(roomy, std::string(10, 'a')));
  ASSERT_TRUE(upload(roomy, std::string(10, 'b')));
  auto full = upload(roomy, std::string(10, 'c'));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, Errc::conflict);
  EXPECT_EQ(rows(), 2u);
  // A direct upload counts against the quota when it is announced.
  EXPECT_EQ(files_->create_upload(roomy, "alice", "d", 10, "", Purpose::attachment, "http://x").error().code,
            Errc::conflict);
}

TEST_P(FileServiceTest, CleanupRemovesOrphansAndAbandonedUploadsOnly) {
  auto orphan = upload(app_, "orphan");
  auto kept = upload(app_, "attached");
  ASSERT_TRUE(orphan && kept);
  ASSERT_TRUE(files_->attach(app_.id, "ch_1", 7, {kept->id}));
  auto pending = files_->create_upload(app_, "alice", "p.bin", 5, "", Purpose::attachment, "http://x");
  ASSERT_TRUE(pending);
  const TimeMs now = now_ms();
  // Within the TTLs nothing goes.
  EXPECT_EQ(*files_->cleanup(now, 100), 0);
  // After the pending TTL (10 min) the abandoned upload goes; the orphan lives for an hour.
  EXPECT_EQ(*files_->cleanup(now + 601'000, 100), 1);
  EXPECT_EQ(files_->get(app_, "alice", pending->file.id).error().code, Errc::not_found);
  EXPECT_TRUE(files_->get(app_, "alice", orphan->id));
  EXPECT_EQ(*files_->cleanup(now + 3'601'000, 100), 1);
  EXPECT_EQ(files_->get(app_, "alice", orphan->id).error().code, Errc::not_found);
  EXPECT_FALSE(fs::exists(dir_.path() / "files" / app_.id / orphan->id));
  // The attached file stays until its message goes.
  EXPECT_TRUE(files_->get(app_, "alice", kept->id));
  EXPECT_EQ(files_->remove(app_, "alice", kept->id).error().code, Errc::conflict);
  ASSERT_TRUE(files_->release_message(app_.id, "ch_1", 7));
  EXPECT_EQ(rows(), 0u);
  EXPECT_FALSE(fs::exists(dir_.path() / "files" / app_.id / kept->id));
}

TEST_P(FileServiceTest, AttachWithExactReleasesWhatAnEditDropped) {
  auto a = upload(app_, "a");
  auto b = upload(app_, "b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(files_->attach(app_.id, "ch", 3, {a->id, b->id}));
  // A file attached to one message cannot be attached to another.
  auto elsewhere = files_->resolve_attachments(app_, "alice", "ch", "[{\"file_id\":\"" + a->id + "\"}]", 4);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.error().code, Errc::validation_failed);
  auto same = files_->resolve_attachments(app_, "alice", "ch", "[{\"file_id\":\"" + a->id + "\"}]", 3);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(same->file_ids, std::vector<std::string>{a->id});
  ASSERT_TRUE(files_->attach(app_.id, "ch", 3, same->file_ids, true));
  EXPECT_TRUE(files_->get(app_, "alice", a->id));
  EXPECT_EQ(files_->get(app_, "alice", b->id).error().code, Errc::not_found);
  EXPECT_EQ(rows(), 1u);
}

TEST_P(FileServiceTest, SignedContentUrls) {
  auto f = upload(app_, "secret");
  ASSERT_TRUE(f);
  auto j = files_->to_json(*f, "http://h");
  std::string url(j.at("url").as_string());
  auto sig_at = url.find("&sig=");
  auto exp_at = url.find("&exp=");
  ASSERT_NE(sig_at, std::string::npos);
  std::string sig = url.substr(sig_at + 5);
  std::int64_t exp = std::stoll(url.substr(exp_at + 5, sig_at - exp_at - 5));
  auto ok = files_->content(app_.id, f->id, "", exp, sig, false);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size, 6u);
  EXPECT_EQ(ok->disposition.substr(0, 11), "attachment;");
  EXPECT_EQ(files_->content(app_.id, f->id, "", exp + 1, sig, false).error().code, Errc::forbidden);
  EXPECT_EQ(files_->content(app_.id, f->id, "64", exp, sig, false).error().code, Errc::forbidden);
  EXPECT_EQ(files_->content(app_.id, f->id, "", std::nullopt, "", false).error().code, Errc::forbidden);
  // The key survives a restart (it is stored once per database).
  FileService again(store_->database(), *storage_, files_->options());
  ASSERT_TRUE(again.init());
  EXPECT_TRUE(again.content(app_.id, f->id, "", exp, sig, false));
}

INSTANTIATE_TEST_SUITE_P(Stores, FileServiceTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace parley::files
