#include "auth/jwt.hpp"

#include <jwt.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "core/crypto.hpp"

namespace parley::auth {

namespace {
constexpr const char* kIssuer = "parley";

struct JwtDeleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

Error bad_token(std::string msg) { return Error{Errc::unauthorized, std::move(msg)}; }
}  // namespace

std::string sign_access_token(const AccessClaims& c, std::string_view key) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr j(raw);
  auto k = reinterpret_cast<const unsigned char*>(key.data());
  if (jwt_set_alg(j.get(), JWT_ALG_HS256, k, static_cast<int>(key.size())) != 0 ||
      jwt_add_grant(j.get(), "iss", kIssuer) != 0 || jwt_add_grant(j.get(), "app", c.app_id.c_str()) != 0 ||
      jwt_add_grant(j.get(), "sub", c.user_id.c_str()) != 0 ||
      jwt_add_grant(j.get(), "sid", c.session_id.c_str()) != 0 || jwt_add_grant_int(j.get(), "gen", c.gen) != 0 ||
      jwt_add_grant_int(j.get(), "iat", c.iat) != 0 || jwt_add_grant_int(j.get(), "exp", c.exp) != 0) {
    throw std::runtime_error("building the JWT failed");
  }
  char* out = jwt_encode_str(j.get());
  if (!out) throw std::runtime_error("jwt_encode_str failed");
  std::string token(out);
  free(out);  // NOLINT: libjwt 1.10 allocates with malloc
  return token;
}

Result<std::string> peek_app_id(std::string_view token) {
  auto first = token.find('.');
  auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return bad_token("malformed access token");
  auto payload = crypto::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return bad_token("malformed access token");
  boost::system::error_code ec;
  auto v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return bad_token("malformed access token");
  const auto* app = v.as_object().if_contains("app");
  if (!app || !app->is_string()) return bad_token("access token names no app");
  return std::string(app->get_string());
}

Result<AccessClaims> verify_access_token(std::string_view token, std::string_view key, std::int64_t now_s) {
  std::string t(token);
  jwt_t* raw = nullptr;
  int rc =
      jwt_decode(&raw, t.c_str(), reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()));
  JwtPtr j(raw);
  if (rc != 0 || !j) return bad_token("access token signature does not verify");
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256) return bad_token("access token algorithm not accepted");
  auto text = [&](const char* name) -> std::string {
    const char* v = jwt_get_grant(j.get(), name);
    return v ? v : "";
  };
  auto number = [&](const char* name, bool& ok) -> std::int64_t {
    errno = 0;
    long v = jwt_get_grant_int(j.get(), name);
    if (errno != 0) ok = false;
    return v;
  };
  AccessClaims c;
  bool ok = true;
  c.app_id = text("app");
  c.user_id = text("sub");
  c.session_id = text("sid");
  c.gen = number("gen", ok);
  c.iat = number("iat", ok);
  c.exp = number("exp", ok);
  if (!ok || text("iss") != kIssuer || c.app_id.empty() || c.user_id.empty()) {
    return bad_token("access token is missing claims");
  }
  if (c.exp <= now_s) return Error{Errc::token_expired, "access token has expired; refresh it"};
  return c;
}

}  // namespace parley::auth
