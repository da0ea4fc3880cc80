#pragma once
// The store's queries for apps, API keys, users, sessions and refresh tokens,
// written once over a database driver (store/sql/db.hpp) and compiled once per backend:
// sqlite_store.cpp and postgres_store.cpp instantiate SqlStore with their dialect. Include it
// only there. Statements are in PostgreSQL's dialect (the SQLite driver translates them); row
// locks stand in for SQLite's single writer where a read decides a write.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/chat_store.hpp"
#include "store/sql/db.hpp"
#include "store/sql/driver_database.hpp"
#include "store/sql/text.hpp"
#include "store/store.hpp"

namespace parley::store::sql {

namespace store_sql {

template <class Row>
AppRecord read_app(Row& st) {
  return {st.text(0), st.text(1), st.text(2), st.blob(3), st.int64(4), st.int64(5)};
}
#define APP_COLS "id, name, settings, jwt_secret, created_at, updated_at"

template <class Row>
ApiKeyRecord read_key(Row& st) {
  return {st.text(0), st.text(1), st.blob(2), st.int64(3), st.opt_int64(4)};
}

template <class Row>
UserRecord read_user(Row& st) {
  UserRecord u;
  u.app_id = st.text(0);
  u.id = st.text(1);
  u.name = st.text(2);
  u.image_url = st.text(3);
  u.custom_json = st.text(4);
  u.created_at = st.int64(5);
  u.updated_at = st.int64(6);
  u.deactivated_at = st.opt_int64(7);
  u.token_gen = st.int64(8);
  u.last_seen_at = st.opt_int64(9);
  u.bot = st.boolean(10);
  return u;
}
#define USER_COLS \
  "app_id, id, name, image_url, custom, created_at, updated_at, deactivated_at, token_gen, last_seen_at, bot"

template <class Row>
SessionRecord read_session(Row& st) {
  return {st.text(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.opt_int64(5)};
}

}  // namespace store_sql

/// The account, app, key and session store over one database driver (`Db`, its dialect),
/// with the chat store `make_chat` builds on the same pool.
template <class Db>
class SqlStore final : public Store {
 public:
  using Connection = typename Db::Connection;
  using Transaction = typename Db::Transaction;
  using Pool = typename Db::Pool;
  using ChatMaker = std::unique_ptr<ChatStore> (*)(Pool&);

  /// `target` is what the driver's Pool opens (a file path, a connection URL).
  SqlStore(std::string driver, const std::string& target, int connections, ChatMaker make_chat)
      : driver_(std::move(driver)), pool_(target, connections), database_(driver_, pool_), chat_(make_chat(pool_)) {}

  std::string driver() const override { return driver_; }
  ChatStore& chat() override { return *chat_; }
  Database& database() override { return database_; }

  Status ping() override {
    return sql::with_conn(pool_, [](Connection& c) -> Status {
      auto st = c.prepare("SELECT 1");
      st.run();
      return ok_status();
    });
  }

  Result<std::optional<std::string>> get_meta(const std::string& key) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::optional<std::string>> {
      auto st = c.prepare("SELECT value FROM meta WHERE key = $1");
      st.bind(1, key);
      if (!st.step()) return std::optional<std::string>{};
      return std::optional<std::string>{st.text(0)};
    });
  }

  Status put_meta(const std::string& key, const std::string& value) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare(
          "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
      st.bind(1, key).bind(2, value).run();
      return ok_status();
    });
  }

  Status create_app(const AppRecord& app, const ApiKeyRecord& key) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      {
        auto st = c.prepare(
            "INSERT INTO apps(id, name, settings, jwt_secret, created_at, updated_at) VALUES($1, $2, $3, $4, $5, $6)");
        st.bind(1, app.id).bind(2, app.name).bind(3, app.settings_json).bind_blob(4, app.jwt_secret);
        st.bind(5, app.created_at).bind(6, app.updated_at).run();
      }
      insert_key_on(c, key);
      tx.commit();
      return ok_status();
    });
  }

  Result<AppRecord> get_app(const std::string& app_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<AppRecord> {
      auto st = c.prepare("SELECT " APP_COLS " FROM apps WHERE id = $1");
      st.bind(1, app_id);
      if (!st.step()) return not_found("app");
      return store_sql::read_app(st);
    });
  }

  Result<std::vector<AppRecord>> list_apps(const std::string& after_id, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<AppRecord>> {
      auto st = c.prepare("SELECT " APP_COLS " FROM apps WHERE id > $1 ORDER BY id LIMIT $2");
      st.bind(1, after_id).bind(2, limit);
      std::vector<AppRecord> out;
      while (st.step()) out.push_back(store_sql::read_app(st));
      return out;
    });
  }

  Result<std::int64_t> count_apps() override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::int64_t> {
      auto st = c.prepare("SELECT count(*) FROM apps");
      st.step();
      return st.int64(0);
    });
  }

  Status update_app(const AppRecord& app) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare("UPDATE apps SET name = $1, settings = $2, updated_at = $3 WHERE id = $4");
      st.bind(1, app.name).bind(2, app.settings_json).bind(3, app.updated_at).bind(4, app.id).run();
      if (c.changes() == 0) return not_found("app");
      return ok_status();
    });
  }

  Status delete_app(const std::string& app_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare("DELETE FROM apps WHERE id = $1");
      st.bind(1, app_id).run();
      if (c.changes() == 0) return not_found("app");
      return ok_status();
    });
  }

  Status insert_key(const ApiKeyRecord& key) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      insert_key_on(c, key);
      return ok_status();
    });
  }

  Result<ApiKeyRecord> get_key(const std::string& key) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ApiKeyRecord> {
      auto st = c.prepare("SELECT key, app_id, secret_hash, created_at, revoked_at FROM api_keys WHERE key = $1");
      st.bind(1, key);
      if (!st.step()) return not_found("api key");
      return store_sql::read_key(st);
    });
  }

  Result<std::vector<ApiKeyRecord>> list_keys(const std::string& app_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<ApiKeyRecord>> {
      auto st = c.prepare(
          "SELECT key, app_id, secret_hash, created_at, revoked_at FROM api_keys WHERE app_id = $1 "
          "ORDER BY created_at, key");
      st.bind(1, app_id);
      std::vector<ApiKeyRecord> out;
      while (st.step()) out.push_back(store_sql::read_key(st));
      return out;
    });
  }

  Status revoke_key(const std::string& app_id, const std::string& key, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE app_id = $2 AND key = $3");
      st.bind(1, at).bind(2, app_id).bind(3, key).run();
      if (c.changes() == 0) return not_found("api key");
      return ok_status();
    });
  }

  Status insert_rotation(const KeyRotation& r) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare(
          "INSERT INTO key_rotations(token_hash, app_id, key, created_at, expires_at) VALUES($1, $2, $3, $4, $5)");
      st.bind_blob(1, r.token_hash).bind(2, r.app_id).bind(3, r.key).bind(4, r.created_at).bind(5, r.expires_at);
      st.run();
      return ok_status();
    });
  }

  Result<KeyRotation> get_rotation(const std::string& token_hash) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<KeyRotation> {
      auto st = c.prepare(
          "SELECT token_hash, app_id, key, created_at, expires_at, used_at FROM key_rotations WHERE token_hash = $1");
      st.bind_blob(1, token_hash);
      if (!st.step()) return not_found("confirm token");
      return KeyRotation{st.blob(0), st.text(1), st.text(2), st.int64(3), st.int64(4), st.opt_int64(5)};
    });
  }

  Status confirm_rotation(const std::string& token_hash, const ApiKeyRecord& new_key, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      std::string old_key;
      {
        // The row lock makes a concurrent second confirm wait, then find used_at set.
        auto st =
            c.prepare("UPDATE key_rotations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL RETURNING key");
        st.bind(1, at).bind_blob(2, token_hash);
        if (!st.step()) return Error{Errc::gone, "confirm token was already used"};
        old_key = st.text(0);
      }
      insert_key_on(c, new_key);
      {
        auto st = c.prepare("UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE key = $2");
        st.bind(1, at).bind(2, old_key).run();
      }
      tx.commit();
      return ok_status();
    });
  }

  Result<UserRecord> upsert_user(const std::string& app_id, const std::string& user_id, const UserPatch& p,
                                 TimeMs now) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<UserRecord> {
      auto st = c.prepare(
          "INSERT INTO users(app_id, id, name, name_lower, image_url, custom, created_at, updated_at, bot) "
          "VALUES($1, $2, coalesce($3::text, ''), lower(coalesce($3::text, '') COLLATE \"C\"), "
          "coalesce($4::text, ''), coalesce($5::text, '{}'), $6::bigint, $6::bigint, coalesce($7::boolean, false)) "
          "ON CONFLICT(app_id, id) DO UPDATE SET "
          "name = coalesce($3::text, users.name), name_lower = lower(coalesce($3::text, users.name) COLLATE \"C\"), "
          "image_url = coalesce($4::text, users.image_url), custom = coalesce($5::text, users.custom), "
          "bot = coalesce($7::boolean, users.bot), "
          "updated_at = CASE WHEN $3::text IS NULL AND $4::text IS NULL AND $5::text IS NULL "
          "AND ($7::boolean IS NULL OR $7::boolean = users.bot) THEN users.updated_at ELSE $6::bigint END "
          "RETURNING " USER_COLS);
      st.bind(1, app_id).bind(2, user_id).bind(3, p.name).bind(4, p.image_url).bind(5, p.custom_json).bind(6, now);
      if (p.bot)
        st.bind_bool(7, *p.bot);
      else
        st.bind_null(7);
      if (!st.step()) return Error{Errc::internal, "upsert returned no row"};
      return store_sql::read_user(st);
    });
  }

  Result<UserRecord> get_user(const std::string& app_id, const std::string& user_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<UserRecord> {
      auto st = c.prepare("SELECT " USER_COLS " FROM users WHERE app_id = $1 AND id = $2");
      st.bind(1, app_id).bind(2, user_id);
      if (!st.step()) return not_found("user");
      return store_sql::read_user(st);
    });
  }

  Result<UserRecord> update_user(const std::string& app_id, const std::string& user_id, const UserPatch& p,
                                 TimeMs now) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<UserRecord> {
      auto st = c.prepare(
          "UPDATE users SET name = coalesce($3::text, name), name_lower = lower(coalesce($3::text, name) COLLATE "
          "\"C\"), "
          "image_url = coalesce($4::text, image_url), custom = coalesce($5::text, custom), updated_at = $6 "
          "WHERE app_id = $1 AND id = $2 RETURNING " USER_COLS);
      st.bind(1, app_id).bind(2, user_id).bind(3, p.name).bind(4, p.image_url).bind(5, p.custom_json).bind(6, now);
      if (!st.step()) return not_found("user");
      return store_sql::read_user(st);
    });
  }

  Result<std::vector<UserRecord>> list_users(const std::string& app_id, const std::string& query,
                                             const std::string& after_id, int limit,
                                             bool include_deactivated) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<UserRecord>> {
      auto st = c.prepare("SELECT " USER_COLS
                          " FROM users WHERE app_id = $1 AND id > $2 "
                          "AND ($3::text IS NULL OR lower(id) LIKE $3 ESCAPE '\\' OR name_lower LIKE $3 ESCAPE '\\') "
                          "AND ($4::boolean OR deactivated_at IS NULL) ORDER BY id LIMIT $5");
      st.bind(1, app_id).bind(2, after_id);
      if (query.empty())
        st.bind_null(3);
      else
        st.bind(3, like_prefix(ascii_lower(query)));
      st.bind_bool(4, include_deactivated).bind(5, limit);
      std::vector<UserRecord> out;
      while (st.step()) out.push_back(store_sql::read_user(st));
      return out;
    });
  }

  Result<UserRecord> set_user_deactivated(const std::string& app_id, const std::string& user_id,
                                          std::optional<TimeMs> at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<UserRecord> {
      Transaction tx(c);
      UserRecord u;
      {
        auto st = c.prepare(
            "UPDATE users SET deactivated_at = $3::bigint, "
            "token_gen = token_gen + CASE WHEN $3::bigint IS NOT NULL THEN 1 ELSE 0 END, updated_at = $4 "
            "WHERE app_id = $1 AND id = $2 RETURNING " USER_COLS);
        st.bind(1, app_id).bind(2, user_id).bind(3, at).bind(4, now_ms());
        if (!st.step()) return not_found("user");
        u = store_sql::read_user(st);
      }
      if (at) revoke_sessions_on(c, app_id, user_id, *at);
      tx.commit();
      return u;
    });
  }

  Status set_last_seen(const std::string& app_id, const std::string& user_id, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare("UPDATE users SET last_seen_at = $1 WHERE app_id = $2 AND id = $3");
      st.bind(1, at).bind(2, app_id).bind(3, user_id).run();
      return ok_status();
    });
  }

  Status revoke_user_tokens(const std::string& app_id, const std::string& user_id, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      {
        auto st = c.prepare("UPDATE users SET token_gen = token_gen + 1 WHERE app_id = $1 AND id = $2");
        st.bind(1, app_id).bind(2, user_id).run();
        if (c.changes() == 0) return not_found("user");
      }
      revoke_sessions_on(c, app_id, user_id, at);
      tx.commit();
      return ok_status();
    });
  }

  Status create_session(const SessionRecord& s, const RefreshTokenRecord& t) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      {
        auto st =
            c.prepare("INSERT INTO sessions(id, app_id, user_id, created_at, expires_at) VALUES($1, $2, $3, $4, $5)");
        st.bind(1, s.id).bind(2, s.app_id).bind(3, s.user_id).bind(4, s.created_at).bind(5, s.expires_at).run();
      }
      insert_refresh_on(c, t);
      tx.commit();
      return ok_status();
    });
  }

  Result<RefreshRotation> rotate_refresh(const std::string& old_hash, const RefreshTokenRecord& next,
                                         TimeMs now) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<RefreshRotation> {
      Transaction tx(c);
      RefreshRotation out;
      std::string session_id;
      bool already_used = false;
      {
        // FOR UPDATE: a concurrent presentation of the same token waits here, then sees it used.
        auto st = c.prepare("SELECT session_id, used_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE");
        st.bind_blob(1, old_hash);
        if (!st.step()) return out;  // unknown
        session_id = st.text(0);
        already_used = !st.is_null(1);
      }
      {
        auto st =
            c.prepare("SELECT id, app_id, user_id, created_at, expires_at, revoked_at FROM sessions WHERE id = $1");
        st.bind(1, session_id);
        if (!st.step()) return out;
        out.session = store_sql::read_session(st);
      }
      if (already_used) {
        auto st = c.prepare("UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2");
        st.bind(1, now).bind(2, session_id).run();
        tx.commit();
        out.outcome = RefreshOutcome::reused;
        if (!out.session->revoked_at) out.session->revoked_at = now;
        return out;
      }
      out.outcome = RefreshOutcome::rotated;
      if (out.session->revoked_at || out.session->expires_at <= now) return out;  // caller rejects; keep token
      {
        auto st = c.prepare("UPDATE refresh_tokens SET used_at = $1 WHERE token_hash = $2");
        st.bind(1, now).bind_blob(2, old_hash).run();
      }
      RefreshTokenRecord n = next;
      n.session_id = session_id;
      insert_refresh_on(c, n);
      tx.commit();
      return out;
    });
  }

  Result<bool> session_revoked(const std::string& session_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<bool> {
      auto st = c.prepare("SELECT revoked_at FROM sessions WHERE id = $1");
      st.bind(1, session_id);
      if (!st.step()) return true;
      return !st.is_null(0);
    });
  }

  Status revoke_session_by_token(const std::string& token_hash, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      auto st = c.prepare(
          "UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) "
          "WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $2)");
      st.bind(1, at).bind_blob(2, token_hash).run();
      if (c.changes() == 0) return not_found("refresh token");
      return ok_status();
    });
  }

 private:
  static void insert_key_on(Connection& c, const ApiKeyRecord& k) {
    auto st = c.prepare("INSERT INTO api_keys(key, app_id, secret_hash, created_at) VALUES($1, $2, $3, $4)");
    st.bind(1, k.key).bind(2, k.app_id).bind_blob(3, k.secret_hash).bind(4, k.created_at).run();
  }

  static void insert_refresh_on(Connection& c, const RefreshTokenRecord& t) {
    auto st = c.prepare("INSERT INTO refresh_tokens(token_hash, session_id, created_at) VALUES($1, $2, $3)");
    st.bind_blob(1, t.token_hash).bind(2, t.session_id).bind(3, t.created_at).run();
  }

  static void revoke_sessions_on(Connection& c, const std::string& app_id, const std::string& user_id, TimeMs at) {
    auto st = c.prepare("UPDATE sessions SET revoked_at = coalesce(revoked_at, $1) WHERE app_id = $2 AND user_id = $3");
    st.bind(1, at).bind(2, app_id).bind(3, user_id).run();
  }

  std::string driver_;
  Pool pool_;
  DriverDatabase<Db> database_;
  std::unique_ptr<ChatStore> chat_;
};

}  // namespace parley::store::sql
