#include "api/static_files.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crypto.hpp"

namespace parley::api {

namespace fs = std::filesystem;

namespace {

std::string content_type(const fs::path& p) {
  static const std::map<std::string, std::string> types = {{".html", "text/html; charset=utf-8"},
                                                           {".js", "text/javascript; charset=utf-8"},
                                                           {".mjs", "text/javascript; charset=utf-8"},
                                                           {".css", "text/css; charset=utf-8"},
                                                           {".json", "application/json"},
                                                           {".map", "application/json"},
                                                           {".yaml", "application/yaml"},
                                                           {".yml", "application/yaml"},
                                                           {".svg", "image/svg+xml"},
                                                           {".png", "image/png"},
                                                           {".ico", "image/x-icon"},
                                                           {".txt", "text/plain; charset=utf-8"},
                                                           {".woff2", "font/woff2"},
                                                           {".webmanifest", "application/manifest+json"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace

std::string find_web_dir(const std::string& configured) {
  if (configured == "off") return {};
  if (!configured.empty()) return configured;
  for (const char* candidate : {"./web/app/dist", PARLEY_SOURCE_DIR "/web/app/dist"}) {
    std::error_code ec;
    if (fs::exists(fs::path(candidate) / "index.html", ec)) return candidate;
  }
  return {};
}

StaticFiles::StaticFiles(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  if (dir.empty() || !fs::is_directory(dir, ec)) return;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string rel = "/" + fs::relative(it->path(), dir).generic_string();
    File f{content_type(it->path()), buf.str(), ""};
    f.etag = "\"" + crypto::sha256_hex(f.body).substr(0, 16) + "\"";
    files_.emplace(std::move(rel), std::move(f));
  }
  spdlog::info("web: serving {} files from {}", files_.size(), dir);
}

std::optional<net::Response> StaticFiles::serve(const net::Request& req) const {
  if (files_.empty() || (req.method != "GET" && req.method != "HEAD")) return std::nullopt;
  if (req.path == "/v1" || req.path.starts_with("/v1/")) return std::nullopt;  // the API answers in JSON
  std::string path = req.path;
  // A folder with an index (e.g. /docs) is reached at its slash form, so relative links resolve.
  if (!path.empty() && path.back() != '/' && files_.contains(path + "/index.html")) {
    net::Response r;
    r.status = 308;
    r.headers.emplace_back("Location", path + "/");
    return r;
  }
  if (path.empty() || path.back() == '/') path += "index.html";
  auto it = files_.find(path);
  if (it == files_.end()) {
    // Client-side routes (no extension) get the app's index; missing assets stay 404.
    auto last = path.substr(path.rfind('/') + 1);
    if (last.find('.') != std::string::npos) return std::nullopt;
    it = files_.find("/index.html");
    if (it == files_.end()) return std::nullopt;
  }
  net::Response r;
  r.content_type = it->second.content_type;
  r.headers.emplace_back("ETag", it->second.etag);
  // Vite puts a content hash in asset names: those never change; the index must revalidate.
  bool hashed = path.starts_with("/assets/");
  r.headers.emplace_back("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  if (auto inm = req.header("if-none-match"); inm && *inm == it->second.etag) {
    r.status = 304;
    return r;
  }
  if (req.method == "GET") r.body = it->second.body;
  return r;
}

}  // namespace parley::api
