#pragma once
// The web app and the API docs UI, served from memory: every file under the web folder is
// read once at start-up (a built single-page app is a few MB), so serving never touches the
// disk on a network thread. Paths without a file extension fall back to index.html (client-
// side routing). Read-only after construction: thread-safe.
#include <map>
#include <optional>
#include <string>

#include "net/http_types.hpp"

namespace parley::api {

class StaticFiles {
 public:
  /// Loads `dir` recursively; an empty or missing folder serves nothing.
  explicit StaticFiles(const std::string& dir);

  /// The response for a GET/HEAD of `path`, or nullopt when no file matches.
  std::optional<net::Response> serve(const net::Request& req) const;
  std::size_t size() const { return files_.size(); }
  const std::string& dir() const { return dir_; }

 private:
  struct File {
    std::string content_type;
    std::string body;
    std::string etag;
  };
  std::string dir_;
  std::map<std::string, File, std::less<>> files_;  // "/index.html" -> file
};

/// Where the built web app lives: the configured folder, else ./web/app/dist, else the one
/// next to the source tree the binary was built from. Empty when none exists.
std::string find_web_dir(const std::string& configured);

}  // namespace parley::api
