#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Auth Auth::basic(std::string_view key, std::string_view secret) {
  return {"Basic " + crypto::base64_encode(std::string(key) + ":" + std::string(secret))};
}

namespace {
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return std::nullopt;
}

boost::json::value& HttpResponse::json() const {
  if (!parsed_) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec) throw std::runtime_error("response body is not JSON (status " + std::to_string(status) + "): " + body);
    parsed_ = std::move(v);
  }
  return *parsed_;
}

struct HttpClient::Impl {
  std::uint16_t port;
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void connect() {
    stream.emplace(ioc);
    stream->expires_after(std::chrono::seconds(10));
    stream->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    buffer.clear();
  }

  // One exchange on the current connection; throws beast::system_error on transport failure.
  HttpResponse exchange(const HttpRequest& req) {
    http::request<http::string_body> msg{http::string_to_verb(req.method), req.target, 11};
    if (msg.method() == http::verb::unknown) msg.method_string(req.method);
    msg.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    msg.keep_alive(true);
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    if (req.body) {
      if (!req.content_type.empty()) msg.set(http::field::content_type, req.content_type);
      msg.body() = *req.body;
    }
    msg.prepare_payload();
    stream->expires_after(std::chrono::seconds(10));
    http::write(*stream, msg);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(req.method == "HEAD");
    http::read(*stream, buffer, parser);
    auto res = parser.release();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    return out;
  }
};

HttpClient::HttpClient(std::uint16_t port) : impl_(std::make_unique<Impl>()) { impl_->port = port; }

HttpClient::~HttpClient() = default;

HttpResponse HttpClient::send(const HttpRequest& req) {
  bool fresh = false;
  if (!impl_->stream) {
    impl_->connect();
    ++connections_opened_;
    fresh = true;
  }
  HttpResponse res;
  try {
    res = impl_->exchange(req);
  } catch (const beast::system_error&) {
    // A kept-alive connection the server closed meanwhile: retry once on a new connection.
    impl_->stream.reset();
    if (fresh) throw;
    impl_->connect();
    ++connections_opened_;
    res = impl_->exchange(req);
  }
  if (!res.keep_alive) impl_->stream.reset();
  return res;
}

namespace {
HttpRequest make(std::string method, const std::string& target, const Auth& auth) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  if (auth.header) r.headers.emplace_back("Authorization", *auth.header);
  return r;
}
}  // namespace

HttpResponse HttpClient::get(const std::string& target, const Auth& auth) { return send(make("GET", target, auth)); }

HttpResponse HttpClient::del(const std::string& target, const Auth& auth) { return send(make("DELETE", target, auth)); }

HttpResponse HttpClient::put(const std::string& target, const Auth& auth) { return send(make("PUT", target, auth)); }

HttpResponse HttpClient::post(const std::string& target, const Auth& auth) { return send(make("POST", target, auth)); }

HttpResponse HttpClient::post(const std::string& target, const Auth& auth, const boost::json::value& body) {
  auto r = make("POST", target, auth);
  r.body = boost::json::serialize(body);
  return send(r);
}

HttpResponse HttpClient::put(const std::string& target, const Auth& auth, const boost::json::value& body) {
  auto r = make("PUT", target, auth);
  r.body = boost::json::serialize(body);
  return send(r);
}

HttpResponse HttpClient::patch(const std::string& target, const Auth& auth, const boost::json::value& body) {
  auto r = make("PATCH", target, auth);
  r.body = boost::json::serialize(body);
  return send(r);
}

HttpResponse HttpClient::send_raw(const std::string& method, const std::string& target, const Auth& auth,
                                  std::string body, std::string content_type) {
  auto r = make(method, target, auth);
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return send(r);
}

void HttpClient::disconnect() { impl_->stream.reset(); }

std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace parley::test
