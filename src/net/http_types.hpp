#pragma once
// What the network layer hands to the application and gets back: plain values, no Beast.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::net {

struct Request {
  std::string method;                                        // "GET", "POST", …
  std::string target;                                        // as sent, e.g. "/v1/users?q=al"
  std::string path;                                          // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  /// A spooled body (ServerOptions::spool): the file holding it, removed once the response is
  /// written (a handler may move it away first). Empty for bodies held in `body`.
  std::string body_file;
  std::string remote_ip;

  /// The first header with this lower-case name.
  std::optional<std::string_view> header(std::string_view name) const;
  /// The first query parameter with this name.
  std::optional<std::string_view> param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// When set, the body is `file_length` bytes of this file from `file_offset`, streamed from
  /// disk (`body` is ignored).
  std::string file;
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;
};

}  // namespace parley::net
