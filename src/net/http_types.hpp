#pragma once
// What the network layer hands to the application and gets back: plain values, no Beast.
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
};

}  // namespace parley::net
