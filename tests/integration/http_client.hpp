#pragma once
// A small synchronous HTTP/1.1 client on Boost.Beast for talking to a ServerProcess. It keeps
// one connection alive across requests (reconnecting when the server closed it) and returns
// plain values: status, headers, body, and the body parsed as JSON.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace parley::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// The value of an Authorization header, or none.
struct Auth {
  std::optional<std::string> header;

  static Auth none() { return {}; }
  static Auth bearer(std::string_view token) { return {"Bearer " + std::string(token)}; }
  static Auth basic(std::string_view key, std::string_view secret);
  static Auth raw(std::string value) { return {std::move(value)}; }
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names as sent by the server
  std::string body;
  bool keep_alive = false;

  /// The first header with this name (case-insensitive).
  std::optional<std::string> header(std::string_view name) const;
  /// The body parsed as JSON, once, and kept in this response (so references into it live as
  /// long as the response); throws (failing the test) when it is not JSON.
  boost::json::value& json() const;
  /// json() as an object: r.obj()["key"].
  boost::json::object& obj() const { return json().as_object(); }

 private:
  mutable std::optional<boost::json::value> parsed_;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;
  std::optional<std::string> body;
  std::string content_type = "application/json";  // sent when there is a body; "" for none
};

class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse send(const HttpRequest& req);

  HttpResponse get(const std::string& target, const Auth& auth = {});
  HttpResponse del(const std::string& target, const Auth& auth = {});
  /// PUT without a body.
  HttpResponse put(const std::string& target, const Auth& auth = {});
  HttpResponse put(const std::string& target, const Auth& auth, const boost::json::value& body);
  /// POST without a body.
  HttpResponse post(const std::string& target, const Auth& auth = {});
  HttpResponse post(const std::string& target, const Auth& auth, const boost::json::value& body);
  HttpResponse patch(const std::string& target, const Auth& auth, const boost::json::value& body);
  /// Any method with a raw body (e.g. malformed JSON) and content type.
  HttpResponse send_raw(const std::string& method, const std::string& target, const Auth& auth, std::string body,
                        std::string content_type = "application/json");

  /// Drops the connection; the next request opens a new one.
  void disconnect();
  /// How many TCP connections this client has opened so far (keep-alive shows as 1).
  int connections_opened() const { return connections_opened_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int connections_opened_ = 0;
};

/// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);

}  // namespace parley::test
