#include "api/context.hpp"

#include <charconv>

#include "core/crypto.hpp"
#include "core/json_reader.hpp"

namespace parley::api {

Result<boost::json::object> Ctx::body(bool empty_ok) const { return parse_json_object(req.body, empty_ok); }

Result<int> Ctx::limit() const {
  auto raw = req.param("limit");
  if (!raw) return s.cfg.page_default;
  int n = 0;
  auto [p, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), n);
  if (ec != std::errc() || p != raw->data() + raw->size() || n < 1) {
    Error e{Errc::invalid_request, "query parameter 'limit' must be a positive integer"};
    return e.with("parameter", "limit");
  }
  return std::min(n, s.cfg.page_max);
}

Result<std::string> Ctx::cursor() const {
  auto raw = req.param("cursor");
  if (!raw || raw->empty()) return std::string();
  auto decoded = open_cursor(*raw);
  if (!decoded) {
    Error e{Errc::invalid_request, "query parameter 'cursor' is not a cursor this server issued"};
    return e.with("parameter", "cursor");
  }
  return std::move(*decoded);
}

std::string public_base(const Ctx& c) {
  std::string configured = c.s.cfg.public_url;
  while (!configured.empty() && configured.back() == '/') configured.pop_back();
  if (!configured.empty()) return configured;
  auto host = c.req.header("host");
  bool plain = host && !host->empty() && host->size() <= 255;
  if (plain) {
    for (char ch : *host) {
      bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                ch == '-' || ch == ':' || ch == '[' || ch == ']';
      plain = plain && ok;
    }
  }
  return "http://" + (plain ? std::string(*host) : std::string("localhost"));
}

std::string make_cursor(const std::string& position) { return crypto::base64url_encode("c1:" + position); }

std::optional<std::string> open_cursor(std::string_view cursor) {
  auto decoded = crypto::base64url_decode(cursor);
  if (!decoded || !decoded->starts_with("c1:")) return std::nullopt;
  return decoded->substr(3);
}

}  // namespace parley::api
