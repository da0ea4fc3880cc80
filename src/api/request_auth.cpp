#include "api/request_auth.hpp"

#include "core/crypto.hpp"
#include "services/on_db.hpp"

namespace parley::api {

namespace {

struct Credentials {
  std::string scheme;  // "bearer" or "basic"
  std::string value;
};

std::optional<Credentials> read_authorization(const net::Request& req) {
  auto h = req.header("authorization");
  if (!h) return std::nullopt;
  auto sp = h->find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string scheme(h->substr(0, sp));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto value = h->substr(sp + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return Credentials{scheme, std::string(value)};
}

Error missing(const char* what) { return Error{Errc::unauthorized, std::string("this route needs ") + what}; }

}  // namespace

boost::asio::awaitable<Status> resolve_access(Ctx& ctx, Access access) {
  if (access == Access::none) co_return ok_status();
  auto cred = read_authorization(ctx.req);
  const char* wanted = access == Access::admin  ? "the super-admin key (Authorization: Bearer)"
                       : access == Access::app  ? "app credentials (Authorization: Basic key:secret)"
                       : access == Access::user ? "a user access token (Authorization: Bearer)"
                                                : "a user access token or app credentials";
  if (!cred) co_return missing(wanted);

  if (access == Access::admin) {
    if (cred->scheme != "bearer" || !ctx.s.tenancy.is_admin_key(cred->value)) {
      co_return Error{Errc::unauthorized, "super-admin key does not verify"};
    }
    ctx.admin = true;
    co_return ok_status();
  }

  if (cred->scheme == "basic") {
    auto decoded = crypto::base64_decode(cred->value);
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) co_return Error{Errc::unauthorized, "malformed Basic credentials"};
    std::string key = decoded->substr(0, colon);
    std::string secret = decoded->substr(colon + 1);
    auto app = co_await on_db(ctx.s, [&] { return ctx.s.tenancy.authenticate_app(key, secret); });
    if (!app) co_return std::move(app).error();
    // Credentials that verify but are the wrong kind: 403, like a user token on an app route.
    if (access == Access::user) co_return Error{Errc::forbidden, "this route acts as a user; use a user access token"};
    ctx.app = *app;
    co_return ok_status();
  }

  if (cred->scheme == "bearer" && access != Access::admin) {
    auto p = co_await on_db(ctx.s, [&] { return ctx.s.tokens.authenticate(cred->value); });
    if (!p) co_return std::move(p).error();
    // Only a token that verifies is a user token (403 here); anything else did not authenticate (401).
    if (access == Access::app) {
      co_return Error{Errc::forbidden, "this route needs app credentials; a user token is not enough"};
    }
    ctx.app = p->app;
    ctx.user = std::move(*p);
    co_return ok_status();
  }
  co_return missing(wanted);
}

}  // namespace parley::api
