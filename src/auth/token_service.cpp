#include "auth/token_service.hpp"

#include "core/crypto.hpp"

namespace parley::auth {

TokenPair TokenService::sign(const store::AppRecord& app, const store::UserRecord& user, const std::string& session_id,
                             std::string refresh_token, TimeMs refresh_expires_at,
                             std::optional<int> ttl_seconds) const {
  TimeMs now = now_ms();
  AccessClaims c;
  c.app_id = app.id;
  c.user_id = user.id;
  c.session_id = session_id;
  c.gen = user.token_gen;
  c.iat = now / 1000;
  int ttl = ttl_seconds.value_or(cfg_.access_token_ttl);
  c.exp = c.iat + ttl;
  TokenPair p;
  p.access_token = sign_access_token(c, app.jwt_secret);
  p.expires_in = ttl;
  p.expires_at = c.exp * 1000;
  p.refresh_token = std::move(refresh_token);
  p.refresh_expires_at = refresh_expires_at;
  p.user = user;
  return p;
}

Result<TokenPair> TokenService::mint(const store::AppRecord& app, const std::string& user_id,
                                     const store::UserPatch& profile, std::optional<int> ttl_seconds) {
  TimeMs now = now_ms();
  PARLEY_ASSIGN_OR_RETURN(auto user, store_.upsert_user(app.id, user_id, profile, now));
  if (user.deactivated_at) return Error{Errc::forbidden, "user is deactivated"};
  store::SessionRecord s;
  s.id = crypto::random_id("ses_", 20);
  s.app_id = app.id;
  s.user_id = user_id;
  s.created_at = now;
  s.expires_at = now + static_cast<TimeMs>(cfg_.refresh_token_ttl) * 1000;
  std::string refresh = crypto::random_token("rt_", 32);
  store::RefreshTokenRecord t{crypto::sha256(refresh), s.id, now, std::nullopt};
  PARLEY_TRY(store_.create_session(s, t));
  return sign(app, user, s.id, std::move(refresh), s.expires_at, ttl_seconds);
}

Result<TokenPair> TokenService::refresh(const std::string& refresh_token) {
  TimeMs now = now_ms();
  std::string next = crypto::random_token("rt_", 32);
  store::RefreshTokenRecord rec{crypto::sha256(next), "", now, std::nullopt};
  PARLEY_ASSIGN_OR_RETURN(auto r, store_.rotate_refresh(crypto::sha256(refresh_token), rec, now));
  switch (r.outcome) {
    case store::RefreshOutcome::unknown: return Error{Errc::unauthorized, "refresh token is not valid"};
    case store::RefreshOutcome::reused:
      return Error{Errc::refresh_token_reused, "refresh token was already used; the session is revoked"};
    case store::RefreshOutcome::rotated: break;
  }
  const store::SessionRecord& s = *r.session;
  if (s.revoked_at) return Error{Errc::token_revoked, "session was revoked; sign in again"};
  if (s.expires_at <= now) return Error{Errc::unauthorized, "refresh token has expired; sign in again"};
  auto app = tenancy_.get_app(s.app_id);
  if (!app) return Error{Errc::unauthorized, "refresh token is not valid"};
  auto user = store_.get_user(s.app_id, s.user_id);
  if (!user) return Error{Errc::unauthorized, "refresh token is not valid"};
  if (user->deactivated_at) return Error{Errc::forbidden, "user is deactivated"};
  return sign(**app, *user, s.id, std::move(next), s.expires_at, std::nullopt);
}

Status TokenService::logout(const std::string& refresh_token) {
  auto st = store_.revoke_session_by_token(crypto::sha256(refresh_token), now_ms());
  if (!st && st.error().code == Errc::not_found) return Error{Errc::unauthorized, "refresh token is not valid"};
  return st;
}

Status TokenService::revoke_user(const std::string& app_id, const std::string& user_id) {
  return store_.revoke_user_tokens(app_id, user_id, now_ms());
}

Result<Principal> TokenService::authenticate(std::string_view access_token) {
  PARLEY_ASSIGN_OR_RETURN(auto app_id, peek_app_id(access_token));
  auto app = tenancy_.get_app(app_id);
  if (!app) {
    if (app.error().code == Errc::not_found) return Error{Errc::unauthorized, "access token's app does not exist"};
    return std::move(app).error();
  }
  PARLEY_ASSIGN_OR_RETURN(auto claims, verify_access_token(access_token, (*app)->jwt_secret, now_ms() / 1000));
  auto user = store_.get_user(claims.app_id, claims.user_id);
  if (!user) {
    if (user.error().code == Errc::not_found) return Error{Errc::unauthorized, "access token's user does not exist"};
    return std::move(user).error();
  }
  if (user->deactivated_at) return Error{Errc::forbidden, "user is deactivated"};
  if (user->token_gen != claims.gen) return Error{Errc::token_revoked, "access token was revoked"};
  // Logging out, or a replayed refresh token, revokes the session: its access tokens stop too.
  auto revoked = store_.session_revoked(claims.session_id);
  if (!revoked) return std::move(revoked).error();
  if (*revoked) return Error{Errc::token_revoked, "the session of this access token was revoked"};
  return Principal{std::move(*app), std::move(*user), std::move(claims)};
}

}  // namespace parley::auth
