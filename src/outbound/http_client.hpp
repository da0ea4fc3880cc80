#pragma once
// Parley's one client for outgoing HTTP to addresses users choose (webhook endpoints, link
// preview pages), over libcurl. Only http and https; no proxy from the environment; every
// connection, also after a redirect, is to an address the AddressPolicy allows: the check runs
// on the exact socket address libcurl is about to connect to, after its one resolution, so a
// DNS name that resolves to a private address (or re-resolves to one later) is refused too.
// Bounded: connect and total timeouts, response bytes kept, response header bytes, redirects.
// send() blocks the calling thread (a job worker, never a network thread); thread-safe: each
// thread has its own libcurl handle, whose connections stay open for the thread's next request.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "outbound/address_policy.hpp"

namespace parley::outbound {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";  // GET, POST, HEAD, PUT, PATCH or DELETE
  std::string url;             // http:// or https://
  Headers headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};                 // the whole exchange, redirects included
  std::size_t max_response_bytes = std::size_t{64} << 10;  // the rest is not read; `truncated` says so
  int max_redirects = 0;                                   // 0: a 3xx is the answer
};

struct Response {
  int status = 0;
  Headers headers;         // of the final response; names lower-case
  std::string body;        // at most max_response_bytes
  bool truncated = false;  // the body went on past max_response_bytes
  std::string final_url;   // after redirects
  std::string remote_ip;   // the address the final response came from
  int redirects = 0;
  std::chrono::microseconds elapsed{0};

  /// The first header named `name` (lower-case), or "".
  std::string header(std::string_view name) const;
};

/// invalid_request unless `url` is a well-formed http:// or https:// URL.
Status check_url(const std::string& url);

class HttpClient {
 public:
  explicit HttpClient(AddressPolicy policy, std::string user_agent = "Parley");

  /// The response, whatever its status. Errors: invalid_request for a URL that is not http(s)
  /// or a bad method; forbidden (detail "refused_address", "range") when the only addresses
  /// were refused by the policy, also after a redirect, or a redirect leaves http(s) (detail
  /// "reason": "redirect_scheme"); unavailable for DNS failures, refused
  /// connections, TLS failures, timeouts (detail "timeout") and too many redirects.
  Result<Response> send(const Request& request) const;

  const AddressPolicy& policy() const { return policy_; }

 private:
  AddressPolicy policy_;
  std::string user_agent_;
  std::uint64_t id_ = 0;  // tells this client's per-thread handles from another client's
};

}  // namespace parley::outbound
