// /v1/files*: uploads through Parley and direct to the storage, file metadata, downloads with
// signed URLs (docs/files.md). Metadata and uploads need a user token; the content and the
// local direct-upload endpoint are reached by signed URL (no token: <img src> and PUT from a
// browser), so those two routes check the signature instead.
#include <boost/json/array.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "api/errors.hpp"
#include "api/params.hpp"
#include "api/routes.hpp"
#include "core/json_reader.hpp"
#include "services/on_db.hpp"

// GCC 12 warns of a mismatched operator delete for an Asio coroutine frame here that is not
// there (the -Wmismatched-new-delete false positive realtime/gateway.cpp describes).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace parley::api {

namespace {

using boost::asio::awaitable;
namespace json = boost::json;
namespace fs = std::filesystem;
using R = awaitable<Result<net::Response>>;
using services::on_files;

constexpr std::size_t kMaxIds = 100;
constexpr std::size_t kMaxName = 1024;  // before cleaning (kept: 255 bytes)

net::Response file_response(int status, Ctx& c, const files::FileRecord& f) {
  return json_response(status, json::object{{"file", c.s.files.to_json(f, public_base(c))}});
}

// The spooled body of an upload route; a body the network layer held in memory (it spools
// every upload route, so only when spooling is off) is written to a file first.
Result<std::string> spooled_body(Ctx& c, std::optional<fs::path>& written) {
  if (!c.req.body_file.empty()) return c.req.body_file;
  fs::path p = c.s.files.options().work_dir / ("body-" + c.request_id);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(c.req.body.data(), static_cast<std::streamsize>(c.req.body.size()));
  if (!out) return Error{Errc::internal, "cannot write the request body to " + p.string()};
  written = p;
  return p.string();
}

struct RemoveFile {
  std::optional<fs::path>& p;
  ~RemoveFile() {
    std::error_code ec;
    if (p) fs::remove(*p, ec);
  }
};

R upload(Ctx& c) {
  auto type = c.req.header("content-type");
  if (!type) co_return Error{Errc::unsupported_media_type, "the body must be multipart/form-data with a boundary"};
  std::optional<fs::path> written;
  RemoveFile remove{written};
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, spooled_body(c, written));
  std::string content_type(*type);
  PARLEY_CO_ASSIGN_OR_RETURN(auto f, co_await on_files(c.s, [&] {
                               return c.s.files.upload_form(*c.app, c.user->user.id, body, content_type);
                             }));
  co_return file_response(201, c, f);
}

R create_upload(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, c.body());
  ObjectReader r(body);
  auto name = r.string("name", true, 1, kMaxName);
  auto size = r.integer("size", true, 1, std::int64_t{1} << 50);
  auto type = r.string("content_type", false, 1, 100);
  auto purpose_text = r.string("purpose", false, 1, 32);
  PARLEY_CO_TRY(r.finish());
  auto purpose = files::parse_purpose(purpose_text.value_or("attachment"));
  if (!purpose) co_return violates("purpose", "must be attachment, avatar or channel_image");
  std::string declared = type.value_or("");
  for (char ch : declared) {
    if (static_cast<unsigned char>(ch) < 0x21 || static_cast<unsigned char>(ch) > 0x7e) {
      co_return violates("content_type", "must be a MIME type like video/mp4");
    }
  }
  auto base = public_base(c);
  PARLEY_CO_ASSIGN_OR_RETURN(auto up, co_await on_files(c.s, [&] {
                               return c.s.files.create_upload(*c.app, c.user->user.id, *name,
                                                              static_cast<std::uint64_t>(*size), declared, *purpose,
                                                              base);
                             }));
  json::object headers;
  for (const auto& [k, v] : up.upload.headers) headers[k] = v;
  co_return json_response(201,
                          json::object{{"file", c.s.files.to_json(up.file, base)},
                                       {"upload", json::object{{"method", up.upload.method},
                                                               {"url", up.upload.url},
                                                               {"headers", std::move(headers)},
                                                               {"expires_at", format_time(up.upload.expires_at)}}}});
}

// ?exp= as seconds since the epoch; nullopt when absent, 403 when malformed (a bad URL).
Result<std::optional<std::int64_t>> exp_param(const Ctx& c) {
  auto raw = c.req.param("exp");
  if (!raw) return std::optional<std::int64_t>{};
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), v);
  if (ec != std::errc() || end != raw->data() + raw->size() || v < 0) {
    return Error{Errc::forbidden, "the URL's expiry is not valid"};
  }
  return std::optional<std::int64_t>{v};
}

R receive_upload(Ctx& c) {
  auto app = c.req.param("app");
  auto sig = c.req.param("sig");
  PARLEY_CO_ASSIGN_OR_RETURN(auto exp, exp_param(c));
  if (!app || !sig || !exp) co_return Error{Errc::forbidden, "the upload URL needs app, exp and sig"};
  std::optional<fs::path> written;
  RemoveFile remove{written};
  PARLEY_CO_ASSIGN_OR_RETURN(auto body, spooled_body(c, written));
  std::string app_id(*app);
  std::string signature(*sig);
  PARLEY_CO_TRY(co_await on_files(
      c.s, [&] { return c.s.files.receive_upload(app_id, c.param("file_id"), *exp, signature, body); }));
  co_return no_content();
}

R complete(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto f, co_await on_files(c.s, [&] { return c.s.files.complete(*c.app, c.user->user.id, c.param("file_id")); }));
  co_return file_response(200, c, f);
}

R get_file(Ctx& c) {
  PARLEY_CO_ASSIGN_OR_RETURN(
      auto f, co_await on_db(c.s, [&] { return c.s.files.get(*c.app, c.user->user.id, c.param("file_id")); }));
  co_return file_response(200, c, f);
}

R list_files(Ctx& c) {
  auto raw = c.req.param("ids");
  if (!raw || raw->empty()) co_return bad_param("ids", "is required: a comma-separated list of file ids");
  std::vector<std::string> ids;
  std::string_view rest = *raw;
  while (true) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    if (item.empty() || item.size() > 64) co_return bad_param("ids", "must be a comma-separated list of file ids");
    ids.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (ids.size() > kMaxIds) co_return bad_param("ids", "lists more than " + std::to_string(kMaxIds) + " ids");
  PARLEY_CO_ASSIGN_OR_RETURN(auto found,
                             co_await on_db(c.s, [&] { return c.s.files.get_many(*c.app, c.user->user.id, ids); }));
  auto base = public_base(c);
  json::array items;
  for (const auto& f : found) items.push_back(c.s.files.to_json(f, base));
  co_return json_response(200, json::object{{"files", std::move(items)}});
}

R delete_file(Ctx& c) {
  PARLEY_CO_TRY(co_await on_files(c.s, [&] { return c.s.files.remove(*c.app, c.user->user.id, c.param("file_id")); }));
  co_return no_content();
}

// Whether an If-None-Match value names `etag` (or is "*").
bool etag_listed(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// One range of "bytes=a-b", "bytes=a-" or "bytes=-n" over `size` bytes. nullopt: serve the whole
// file (no usable single range: another unit, several ranges, a malformed header, which RFC 9110
// lets a server ignore); an error result: not satisfiable (416).
Result<std::optional<ByteRange>> parse_range(std::string_view h, std::uint64_t size) {
  if (!h.starts_with("bytes=")) return std::optional<ByteRange>{};
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return std::optional<ByteRange>{};
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>{};
  auto a = h.substr(0, dash);
  auto b = h.substr(dash + 1);
  Error unsatisfiable{Errc::range_not_satisfiable,
                      "the range is outside the file's " + std::to_string(size) + " bytes"};
  if (a.empty()) {  // the last n bytes
    auto n = parse_u64(b);
    if (!n) return std::optional<ByteRange>{};
    if (*n == 0 || size == 0) return unsatisfiable;
    return std::optional<ByteRange>{ByteRange{size - std::min(*n, size), size - 1}};
  }
  auto first = parse_u64(a);
  if (!first) return std::optional<ByteRange>{};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!b.empty()) {
    auto l = parse_u64(b);
    if (!l || *l < *first) return std::optional<ByteRange>{};
    last = std::min(*l, last);
  }
  if (*first >= size) return unsatisfiable;
  return std::optional<ByteRange>{ByteRange{*first, last}};
}

R content(Ctx& c) {
  auto app = c.req.param("app");
  if (!app) co_return Error{Errc::not_found, "file not found"};
  PARLEY_CO_ASSIGN_OR_RETURN(auto exp, exp_param(c));
  PARLEY_CO_ASSIGN_OR_RETURN(auto download, bool_param(c, "download"));
  std::string app_id(*app);
  std::string variant(c.req.param("v").value_or(""));
  std::string sig(c.req.param("sig").value_or(""));
  PARLEY_CO_ASSIGN_OR_RETURN(auto got, co_await on_db(c.s, [&] {
                               return c.s.files.content(app_id, c.param("file_id"), variant, exp, sig,
                                                        download.value_or(false));
                             }));
  net::Response res;
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (got.redirect) {
    res.status = 302;
    res.headers.emplace_back("Location", *got.redirect);
    res.headers.emplace_back("Cache-Control", "private, no-store");
    res.content_type.clear();
    co_return res;
  }
  res.headers.emplace_back("ETag", got.etag);
  res.headers.emplace_back("Cache-Control", sig.empty() ? "public, max-age=300" : "private, max-age=3600");
  res.headers.emplace_back("Accept-Ranges", "bytes");
  if (auto inm = c.req.header("if-none-match"); inm && etag_listed(*inm, got.etag)) {
    res.status = 304;
    res.content_type.clear();
    co_return res;
  }
  res.headers.emplace_back("Content-Disposition", got.disposition);
  res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; sandbox");
  res.content_type = got.content_type;
  res.file = got.path->string();
  res.file_offset = 0;
  res.file_length = got.size;
  auto range_header = c.req.header("range");
  auto if_range = c.req.header("if-range");
  if (range_header && (!if_range || *if_range == got.etag)) {
    auto range = parse_range(*range_header, got.size);
    if (!range) {
      net::Response bad = error_response(range.error());
      bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(got.size));
      co_return bad;
    }
    if (*range) {
      res.status = 206;
      res.file_offset = (*range)->first;
      res.file_length = (*range)->last - (*range)->first + 1;
      res.headers.emplace_back("Content-Range", "bytes " + std::to_string((*range)->first) + "-" +
                                                    std::to_string((*range)->last) + "/" + std::to_string(got.size));
    }
  }
  co_return res;
}

}  // namespace

void add_file_routes(Router& r) {
  r.add({"POST", "/v1/files", Access::user, true, upload});
  r.add({"GET", "/v1/files", Access::user, true, list_files});
  r.add({"POST", "/v1/files/uploads", Access::user, true, create_upload});
  r.add({"PUT", "/v1/files/{file_id}/upload", Access::none, true, receive_upload});
  r.add({"POST", "/v1/files/{file_id}/complete", Access::user, true, complete});
  r.add({"GET", "/v1/files/{file_id}", Access::user, true, get_file});
  r.add({"DELETE", "/v1/files/{file_id}", Access::user, true, delete_file});
  r.add({"GET", "/v1/files/{file_id}/content", Access::none, true, content});
}

}  // namespace parley::api
