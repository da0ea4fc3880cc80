#pragma once
// The storage interface. Implementations (sqlite/, postgres/) are thread-safe: any
// method may be called from any database thread at once. Calls block, so they run on the
// database thread pool, never on a network thread. Every query that touches tenant data is
// scoped by app id. Errors: not_found, conflict, unavailable (retryable), internal.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/chat_store.hpp"
#include "store/sql/database.hpp"
#include "store/types.hpp"

namespace parley::store {

enum class RefreshOutcome { rotated, reused, unknown };

struct RefreshRotation {
  RefreshOutcome outcome = RefreshOutcome::unknown;
  std::optional<SessionRecord> session;  // set unless unknown
};

class Store {
 public:
  virtual ~Store() = default;

  /// "sqlite" or "postgres".
  virtual std::string driver() const = 0;
  /// A trivial round trip, for health checks.
  virtual Status ping() = 0;
  /// The chat model (channels, members, messages), on the same database.
  virtual ChatStore& chat() = 0;
  /// The shared SQL layer on the same pool, for the repositories of capability modules
  /// (tenancy/audit_log.hpp is one): a module's tables and queries live with the module, not here.
  virtual sql::Database& database() = 0;

  // Key/value facts about the installation (admin key hash, …).
  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;
  virtual Status put_meta(const std::string& key, const std::string& value) = 0;

  // Apps and their API keys.
  virtual Status create_app(const AppRecord& app, const ApiKeyRecord& first_key) = 0;
  virtual Result<AppRecord> get_app(const std::string& app_id) = 0;
  /// Apps ordered by id, after `after_id` (exclusive; empty = from the start).
  virtual Result<std::vector<AppRecord>> list_apps(const std::string& after_id, int limit) = 0;
  virtual Result<std::int64_t> count_apps() = 0;
  virtual Status update_app(const AppRecord& app) = 0;
  /// Deletes the app and everything that belongs to it.
  virtual Status delete_app(const std::string& app_id) = 0;

  virtual Status insert_key(const ApiKeyRecord& key) = 0;
  virtual Result<ApiKeyRecord> get_key(const std::string& key) = 0;
  virtual Result<std::vector<ApiKeyRecord>> list_keys(const std::string& app_id) = 0;
  virtual Status revoke_key(const std::string& app_id, const std::string& key, TimeMs at) = 0;
  virtual Status insert_rotation(const KeyRotation& rotation) = 0;
  virtual Result<KeyRotation> get_rotation(const std::string& token_hash) = 0;
  /// Atomically: marks the rotation used (conflict if it already was), adds `new_key` and
  /// revokes the rotated key.
  virtual Status confirm_rotation(const std::string& token_hash, const ApiKeyRecord& new_key, TimeMs at) = 0;

  // Users of an app.
  /// Creates the user, or applies `patch` to the existing one; returns the stored user.
  virtual Result<UserRecord> upsert_user(const std::string& app_id, const std::string& user_id, const UserPatch& patch,
                                         TimeMs now) = 0;
  virtual Result<UserRecord> get_user(const std::string& app_id, const std::string& user_id) = 0;
  virtual Result<UserRecord> update_user(const std::string& app_id, const std::string& user_id, const UserPatch& patch,
                                         TimeMs now) = 0;
  /// Users ordered by id after `after_id`; `query` matches a prefix of id or name, any case.
  virtual Result<std::vector<UserRecord>> list_users(const std::string& app_id, const std::string& query,
                                                     const std::string& after_id, int limit,
                                                     bool include_deactivated) = 0;
  /// Sets or clears deactivated_at; deactivating also revokes every token of the user.
  virtual Result<UserRecord> set_user_deactivated(const std::string& app_id, const std::string& user_id,
                                                  std::optional<TimeMs> at) = 0;
  /// Records when the user's last realtime connection closed.
  virtual Status set_last_seen(const std::string& app_id, const std::string& user_id, TimeMs at) = 0;
  /// Bumps the user's token generation and revokes all their sessions.
  virtual Status revoke_user_tokens(const std::string& app_id, const std::string& user_id, TimeMs at) = 0;

  // Refresh sessions.
  virtual Status create_session(const SessionRecord& session, const RefreshTokenRecord& token) = 0;
  /// Atomically consumes `old_hash` and stores `next` in the same session. A token presented
  /// a second time revokes its session and answers `reused`.
  virtual Result<RefreshRotation> rotate_refresh(const std::string& old_hash, const RefreshTokenRecord& next,
                                                 TimeMs now) = 0;
  /// True when the session was revoked (or no longer exists): its access tokens stop too.
  virtual Result<bool> session_revoked(const std::string& session_id) = 0;
  /// Revokes the session the refresh token belongs to; not_found when the token is unknown.
  virtual Status revoke_session_by_token(const std::string& token_hash, TimeMs at) = 0;
};

/// Opens the store a database URL names ("sqlite:<path>" or "postgres://…"), with `connections`
/// pooled connections; throws std::runtime_error with a clear message when it cannot.
/// Migrations are not applied here.
std::unique_ptr<Store> open_store(const std::string& database_url, int connections);

}  // namespace parley::store
