#include "outbound/http_client.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace parley::outbound {
namespace {

constexpr std::size_t kMaxHeaderBytes = std::size_t{16} << 10;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
  });
}

struct CurlDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// What one transfer's callbacks write; owned by send(), lives for its curl_easy_perform.
struct Transfer {
  const AddressPolicy* policy = nullptr;
  std::size_t max_body = 0;
  Response response;
  std::size_t header_bytes = 0;
  std::string refused_address;
  std::string refused_range;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  const std::size_t room = t->max_body - t->response.body.size();
  if (len > room) {
    t->response.body.append(data, room);
    t->response.truncated = true;
    return 0;  // stop reading: curl ends the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  std::string_view line(data, len);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {  // a new response (after a redirect or a 100): its headers only
    t->response.headers.clear();
    t->header_bytes = 0;
    return len;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;
  t->header_bytes += len;
  if (t->header_bytes > kMaxHeaderBytes) return len;  // read, not kept
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  t->response.headers.emplace_back(std::move(name), std::string(value));
  return len;
}

// Every connection libcurl makes goes through here with the address it resolved: the policy's
// one check point.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  auto ip = IpAddress::from_sockaddr(&address->addr);
  if (!ip) {
    t->refused_address = "(not an IP socket)";
    t->refused_range = "not IP";
    return CURL_SOCKET_BAD;
  }
  if (auto range = t->policy->refusal(*ip)) {
    t->refused_address = ip->str();
    t->refused_range = std::string(*range);
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

Status check_request(const Request& r) {
  static constexpr std::string_view kMethods[] = {"GET", "POST", "HEAD", "PUT", "PATCH", "DELETE"};
  if (std::find(std::begin(kMethods), std::end(kMethods), r.method) == std::end(kMethods))
    return Error{Errc::invalid_request, "unsupported method '" + r.method + "'"};
  PARLEY_TRY(check_url(r.url));
  for (const auto& [name, value] : r.headers)
    if (name.empty() || has_line_break(name) || has_line_break(value) || name.find(':') != std::string::npos)
      return Error{Errc::invalid_request, "invalid header '" + name + "'"};
  return ok_status();
}

}  // namespace

Status check_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), &curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return Error{Errc::invalid_request, "not a valid URL: '" + url + "'"};
  char* scheme = nullptr;
  if (curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
    return Error{Errc::invalid_request, "URL without a scheme"};
  std::string s(scheme);
  curl_free(scheme);
  if (s != "http" && s != "https") return Error{Errc::invalid_request, "only http and https URLs, not '" + s + "'"};
  return ok_status();
}

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

HttpClient::HttpClient(AddressPolicy policy, std::string user_agent)
    : policy_(std::move(policy)), user_agent_(std::move(user_agent)) {
  static std::atomic<std::uint64_t> next_id{1};
  id_ = next_id++;
  global_init();
}

Result<Response> HttpClient::send(const Request& request) const {
  PARLEY_TRY(check_request(request));
  // One handle per thread, reset for each request: its connection cache keeps connections to
  // the hosts this thread sent to alive for the next request (each was checked when it was made).
  // A connection another client (another policy) opened is never reused: a new handle then.
  thread_local std::unique_ptr<CURL, CurlDeleter> h;
  thread_local std::uint64_t h_client = 0;
  if (!h || h_client != id_) {
    h.reset(curl_easy_init());
    h_client = id_;
  }
  if (!h) return Error{Errc::internal, "curl_easy_init failed"};
  CURL* c = h.get();
  curl_easy_reset(c);
  Transfer t;
  t.policy = &policy_;
  t.max_body = request.max_response_bytes;

  std::unique_ptr<curl_slist, CurlDeleter> headers;
  auto add_header = [&](const std::string& line) {
    // curl_slist_append returns the list's head (the same one after the first) or null.
    if (curl_slist* head = curl_slist_append(headers.get(), line.c_str())) {
      static_cast<void>(headers.release());
      headers.reset(head);
    }
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line.append(": ").append(value);
    add_header(line);
  }
  add_header("Expect:");  // no 100-continue round trip before a body

  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent_.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.max_redirects > 0 ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || !request.body.empty()) {
    if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  }

  const CURLcode rc = curl_easy_perform(c);
  const bool stopped_at_limit = rc == CURLE_WRITE_ERROR && t.response.truncated;
  if (rc != CURLE_OK && !stopped_at_limit) {
    if (!t.refused_address.empty() && rc == CURLE_COULDNT_CONNECT) {
      return Error{Errc::forbidden, "outgoing connection to " + t.refused_address + " refused (" + t.refused_range +
                                        " address; an operator can allow it with --outbound-allow)"}
          .with("refused_address", t.refused_address)
          .with("range", t.refused_range);
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL)  // the URL was checked: only a redirect gets here
      return Error{Errc::forbidden, "redirect from " + request.url + " to a scheme other than http(s) refused"}.with(
          "reason", "redirect_scheme");
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    Error e{Errc::unavailable, "outgoing request to " + request.url + " failed: " + why};
    if (rc == CURLE_OPERATION_TIMEDOUT) e.with("reason", "timeout");
    if (rc == CURLE_TOO_MANY_REDIRECTS) e.with("reason", "too_many_redirects");
    return e;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = static_cast<int>(status);
  char* url = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url) t.response.final_url = url;
  char* ip = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) t.response.remote_ip = ip;
  long redirects = 0;
  curl_easy_getinfo(c, CURLINFO_REDIRECT_COUNT, &redirects);
  t.response.redirects = static_cast<int>(redirects);
  curl_off_t total_us = 0;
  curl_easy_getinfo(c, CURLINFO_TOTAL_TIME_T, &total_us);
  t.response.elapsed = std::chrono::microseconds(total_us);
  return std::move(t.response);
}

}  // namespace parley::outbound
