#pragma once
// The chat store's queries, written once over a database driver (store/sql/db.hpp) and compiled
// once per backend: sqlite_chat_store.cpp and postgres_chat_store.cpp instantiate SqlChatStore
// with their dialect and send batch writer. Include it only there.
//
// Statements are in PostgreSQL's dialect; the SQLite driver translates them (sqlite_dialect.hpp).
// SQLite runs one writer at a time; PostgreSQL runs writers side by side at READ COMMITTED. Where
// a write depends on what an earlier statement read, the transaction first takes a row lock
// (skipped where Db::kRowLocks is false), and locks are always taken in one order (app row, then
// channel row, then member and message rows) so concurrent calls queue instead of deadlocking:
// - channel-list changes (create, update, add/remove members) take the app row through
//   next_version(), which serialises them per app as SQLite's writer lock does;
// - the send batch (the backend's own, e.g. postgres_send_batch.cpp) allocates seqs with
//   UPDATE channels … RETURNING, whose row lock orders concurrent senders of a channel (also
//   across processes) and keeps seqs gap-free;
// - delete and pin take the channel row first (the same order as a reply's send), reactions
//   take the message row, so counts recomputed after the lock see every committed change.
#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "store/chat_rows.hpp"
#include "store/chat_store.hpp"
#include "store/sql/db.hpp"
#include "store/sql/text.hpp"

namespace parley::store::sql {

namespace chat_sql {

// Unread messages of member m in channel c: messages after the last-read seq minus deleted
// ones (a member's own messages are never after their read seq: sending marks it read).
#define UNREAD_EXPR                                                                                  \
  "(c.last_seq - m.last_read_seq) - CASE WHEN c.deleted_count = 0 OR c.last_seq <= m.last_read_seq " \
  "THEN 0 ELSE (SELECT count(*) FROM messages d WHERE d.app_id = c.app_id AND d.channel_id = c.id "  \
  "AND d.seq > m.last_read_seq AND d.deleted_at IS NOT NULL) END"
// Unread mentions of member m: flagged messages after the last-read seq that are not deleted.
#define MENTIONS_EXPR                                                                                  \
  "CASE WHEN m.last_mention_seq <= m.last_read_seq THEN 0 ELSE (SELECT count(*) FROM message_flags f " \
  "WHERE f.app_id = m.app_id AND f.user_id = m.user_id AND f.channel_id = m.channel_id "               \
  "AND f.seq > m.last_read_seq AND (f.flags & 1) <> 0 AND NOT EXISTS (SELECT 1 FROM messages d "       \
  "WHERE d.app_id = f.app_id AND d.channel_id = f.channel_id AND d.seq = f.seq "                       \
  "AND d.deleted_at IS NOT NULL)) END"

// The select list of a ChannelView query over channels c, members m (maybe NULL), last message lm.
constexpr const char* kViewSelect =
    "SELECT " CHANNEL_COLS("c.") ", " MEMBER_COLS("m.") ", " MESSAGE_COLS("lm.") ", " UNREAD_EXPR ", " MENTIONS_EXPR;

template <class Row>
ChannelView read_view(const Row& st) {
  ChannelView v;
  v.channel = read_channel(st, 0);
  int o = kChannelCols;
  if (!st.is_null(o)) v.membership = read_member(st, o);
  o += kMemberCols;
  if (!st.is_null(o)) v.last_message = read_message(st, o);
  o += kMessageCols;
  if (v.membership) {
    v.unread_count = st.int64(o);
    v.unread_mentions = st.int64(o + 1);
  }
  return v;
}

// Stamps a new app-wide change version and returns it (inside the caller's transaction). Its row
// lock on the app serialises channel-list changes of the app until the caller commits.
template <class Db>
std::int64_t next_version(typename Db::Connection& c, const std::string& app_id) {
  auto st = c.prepare("UPDATE apps SET change_seq = change_seq + 1 WHERE id = $1 RETURNING change_seq");
  st.bind(1, app_id);
  if (!st.step()) Db::fail("app vanished while changing channels");
  std::int64_t v = st.int64(0);
  st.run();
  return v;
}

// Locks the channel row for the rest of the transaction (no-op when it does not exist, and on a
// database whose one writer at a time needs no row locks).
template <class Db>
void lock_channel(typename Db::Connection& c, const std::string& app_id, const std::string& channel_id) {
  if constexpr (!Db::kRowLocks) return;
  auto st = c.prepare("SELECT 1 FROM channels WHERE app_id = $1 AND id = $2 FOR NO KEY UPDATE");
  st.bind(1, app_id).bind(2, channel_id).run();
}

template <class Conn>
void insert_member(Conn& c, const MemberRecord& m, std::int64_t version) {
  auto st = c.prepare(
      "INSERT INTO members(app_id, channel_id, user_id, role, joined_at, last_read_seq, muted, starred, hidden, "
      "version) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
  st.bind(1, m.app_id).bind(2, m.channel_id).bind(3, m.user_id).bind(4, role_name(m.role)).bind(5, m.joined_at);
  st.bind(6, m.last_read_seq).bind_bool(7, m.muted).bind_bool(8, m.starred).bind_bool(9, m.hidden);
  st.bind(10, version).run();
}

template <class Conn>
Result<MessageRecord> message_on(Conn& c, const std::string& app_id, const std::string& channel_id, std::int64_t seq) {
  auto st = c.prepare("SELECT " MESSAGE_COLS("") " FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3");
  st.bind(1, app_id).bind(2, channel_id).bind(3, seq);
  if (!st.step()) return not_found("message");
  return read_message(st);
}

template <class Conn>
std::optional<MemberRecord> member_on(Conn& c, const std::string& app_id, const std::string& channel_id,
                                      const std::string& user_id) {
  auto st = c.prepare("SELECT " MEMBER_COLS("") " FROM members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3");
  st.bind(1, app_id).bind(2, channel_id).bind(3, user_id);
  if (!st.step()) return std::nullopt;
  return read_member(st);
}

// Reads what a guarded write's rule judges and runs the rule: call it inside the write's
// transaction once its locks are held. `subject` and `seq` name the membership and the message
// the write is about, if any.
template <class Conn>
Result<Standing> judge(Conn& c, const Guard& guard, const std::string& app_id, const std::string& channel_id,
                       const std::string* subject, const std::int64_t* seq) {
  Standing s;
  {
    auto st = c.prepare("SELECT " CHANNEL_COLS("") " FROM channels WHERE app_id = $1 AND id = $2");
    st.bind(1, app_id).bind(2, channel_id);
    if (!st.step()) return not_found("channel");
    s.channel = read_channel(st);
  }
  s.actor = member_on(c, app_id, channel_id, guard.actor_id);
  if (subject) s.subject = *subject == guard.actor_id ? s.actor : member_on(c, app_id, channel_id, *subject);
  if (seq) {
    auto m = message_on(c, app_id, channel_id, *seq);
    if (m) s.message = std::move(*m);
  }
  PARLEY_TRY(guard.rule(s));
  return s;
}

}  // namespace chat_sql

/// The chat store over one database driver. `Db` is the driver's dialect (SqliteDialect,
/// PostgresDialect); `Sends` is its send batch writer, constructed from the pool, with
/// send_batch(batch, rule).
template <class Db, class Sends>
class SqlChatStore final : public ChatStore {
 public:
  using Connection = typename Db::Connection;
  using Transaction = typename Db::Transaction;
  using Pool = typename Db::Pool;

  explicit SqlChatStore(Pool& pool) : pool_(pool), sends_(pool) {}

  Result<ChannelRecord> create_channel(const ChannelRecord& ch, const std::vector<MemberRecord>& members) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelRecord> {
      Transaction tx(c);
      ChannelRecord out = ch;
      out.version = chat_sql::next_version<Db>(c, ch.app_id);
      out.member_count = static_cast<std::int64_t>(members.size());
      {
        auto st = c.prepare(
            "INSERT INTO channels(app_id, id, type, name, name_lower, topic, image_url, custom, dm_key, created_by, "
            "created_at, updated_at, activity_at, member_count, version) "
            "VALUES($1, $2, $3, $4::text, lower($4::text COLLATE \"C\"), $5, $6, $7, $8, $9, $10::bigint, $10::bigint, "
            "$10::bigint, $11, $12)");
        st.bind(1, out.app_id)
            .bind(2, out.id)
            .bind(3, channel_type_name(out.type))
            .bind(4, out.name)
            .bind(5, out.topic);
        st.bind(6, out.image_url).bind(7, out.custom_json).bind(8, out.dm_key).bind(9, out.created_by);
        st.bind(10, out.created_at).bind(11, out.member_count).bind(12, out.version).run();
      }
      for (const auto& m : members) chat_sql::insert_member(c, m, out.version);
      tx.commit();
      out.updated_at = out.activity_at = out.created_at;
      return out;
    });
  }

  Result<ChannelRecord> get_channel(const std::string& app_id, const std::string& channel_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelRecord> {
      auto st = c.prepare("SELECT " CHANNEL_COLS("") " FROM channels WHERE app_id = $1 AND id = $2");
      st.bind(1, app_id).bind(2, channel_id);
      if (!st.step()) return not_found("channel");
      return read_channel(st);
    });
  }

  Result<std::optional<ChannelRecord>> find_dm(const std::string& app_id, const std::string& dm_key) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::optional<ChannelRecord>> {
      auto st = c.prepare("SELECT " CHANNEL_COLS("") " FROM channels WHERE app_id = $1 AND dm_key = $2");
      st.bind(1, app_id).bind(2, dm_key);
      if (!st.step()) return std::optional<ChannelRecord>{};
      return std::optional<ChannelRecord>{read_channel(st)};
    });
  }

  Result<ChannelRecord> update_channel(const ChannelRecord& ch) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelRecord> {
      Transaction tx(c);
      std::int64_t v = chat_sql::next_version<Db>(c, ch.app_id);
      auto out = save_channel(c, ch, v);
      if (out) tx.commit();
      return out;
    });
  }

  Result<ChannelRecord> update_channel_checked(const Guard& guard, const std::string& app_id,
                                               const std::string& channel_id,
                                               const std::function<void(ChannelRecord&)>& change) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelRecord> {
      Transaction tx(c);
      std::int64_t v = chat_sql::next_version<Db>(c, app_id);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);
      auto s = chat_sql::judge(c, guard, app_id, channel_id, nullptr, nullptr);
      if (!s) return std::move(s).error();
      change(s->channel);
      auto out = save_channel(c, s->channel, v);
      if (out) tx.commit();
      return out;
    });
  }

 private:
  // update_channel's statement, inside the caller's transaction at change version `v`.
  Result<ChannelRecord> save_channel(Connection& c, const ChannelRecord& ch, std::int64_t v) {
    auto st = c.prepare(
        "UPDATE channels SET name = $3::text, name_lower = lower($3::text COLLATE \"C\"), topic = $4, "
        "image_url = $5, custom = $6, archived_at = $7, deleted_at = $8, updated_at = $9, version = $10 "
        "WHERE app_id = $1 AND id = $2 RETURNING " CHANNEL_COLS(""));
    st.bind(1, ch.app_id).bind(2, ch.id).bind(3, ch.name).bind(4, ch.topic).bind(5, ch.image_url);
    st.bind(6, ch.custom_json).bind(7, ch.archived_at).bind(8, ch.deleted_at).bind(9, ch.updated_at).bind(10, v);
    if (!st.step()) return not_found("channel");
    ChannelRecord out = read_channel(st);
    st.run();  // SQLite commits only once the statement is done
    return out;
  }

 public:
  Result<std::vector<ChannelView>> list_member_channels(const std::string& app_id, const std::string& user_id,
                                                        const std::optional<ChannelType>& type, bool include_hidden,
                                                        const std::optional<ActivityCursor>& after,
                                                        int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<ChannelView>> {
      // Page first (cheap columns only), then compute unread state and last message for the page.
      auto st =
          c.prepare(std::string(chat_sql::kViewSelect) +
                    " FROM (SELECT pc.id AS cid, pc.activity_at AS act FROM members pm JOIN channels pc "
                    "ON pc.app_id = pm.app_id AND pc.id = pm.channel_id "
                    "WHERE pm.app_id = $1 AND pm.user_id = $2 AND pc.deleted_at IS NULL "
                    "AND ($3::text IS NULL OR pc.type = $3) AND ($4::boolean OR NOT pm.hidden) "
                    "AND ($5::bigint IS NULL OR pc.activity_at < $5 OR (pc.activity_at = $5 AND pc.id > $6::text)) "
                    "ORDER BY pc.activity_at DESC, pc.id ASC LIMIT $7) p "
                    "JOIN channels c ON c.app_id = $1 AND c.id = p.cid "
                    "JOIN members m ON m.app_id = $1 AND m.channel_id = p.cid AND m.user_id = $2 "
                    "LEFT JOIN messages lm ON lm.app_id = $1 AND lm.channel_id = p.cid AND lm.seq = c.last_seq "
                    "ORDER BY p.act DESC, p.cid ASC");
      st.bind(1, app_id).bind(2, user_id).bind_bool(4, include_hidden);
      if (type)
        st.bind(3, channel_type_name(*type));
      else
        st.bind_null(3);
      if (after)
        st.bind(5, after->activity_at).bind(6, after->id);
      else
        st.bind_null(5).bind_null(6);
      st.bind(7, limit);
      std::vector<ChannelView> out;
      while (st.step()) out.push_back(chat_sql::read_view(st));
      return out;
    });
  }

  Result<UnreadTotals> unread_totals(const std::string& app_id, const std::string& user_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<UnreadTotals> {
      auto st = c.prepare(
          "SELECT coalesce(sum(u), 0)::bigint, coalesce(sum(mn), 0)::bigint, count(*) FILTER (WHERE u > 0) "
          "FROM (SELECT " UNREAD_EXPR " AS u, " MENTIONS_EXPR
          " AS mn FROM members m JOIN channels c ON c.app_id = m.app_id AND c.id = m.channel_id "
          "WHERE m.app_id = $1 AND m.user_id = $2 AND NOT m.muted AND c.deleted_at IS NULL) t");
      st.bind(1, app_id).bind(2, user_id);
      st.step();
      return UnreadTotals{st.int64(0), st.int64(1), st.int64(2)};
    });
  }

  Result<std::vector<ChannelRecord>> list_public_channels(
      const std::string& app_id, const std::string& prefix,
      const std::optional<std::pair<std::string, std::string>>& after, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<ChannelRecord>> {
      auto st = c.prepare("SELECT " CHANNEL_COLS(
          "") " FROM channels WHERE app_id = $1 AND type = 'public' AND deleted_at IS NULL "
              "AND ($2::text IS NULL OR name_lower LIKE $2 ESCAPE '\\') "
              "AND ($3::text IS NULL OR name_lower > $3 OR (name_lower = $3 AND id > $4::text)) "
              "ORDER BY name_lower, id LIMIT $5");
      st.bind(1, app_id);
      if (prefix.empty())
        st.bind_null(2);
      else
        st.bind(2, like_prefix(ascii_lower(prefix)));
      if (after)
        st.bind(3, after->first).bind(4, after->second);
      else
        st.bind_null(3).bind_null(4);
      st.bind(5, limit);
      std::vector<ChannelRecord> out;
      while (st.step()) out.push_back(read_channel(st));
      return out;
    });
  }

  Result<ChannelView> channel_view(const std::string& app_id, const std::string& channel_id,
                                   const std::string& user_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelView> {
      auto st =
          c.prepare(std::string(chat_sql::kViewSelect) +
                    " FROM channels c LEFT JOIN members m ON m.app_id = c.app_id AND m.channel_id = c.id "
                    "AND m.user_id = $3 "
                    "LEFT JOIN messages lm ON lm.app_id = c.app_id AND lm.channel_id = c.id AND lm.seq = c.last_seq "
                    "WHERE c.app_id = $1 AND c.id = $2");
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id);
      if (!st.step()) return not_found("channel");
      return chat_sql::read_view(st);
    });
  }

  Result<std::vector<std::string>> member_channel_ids(const std::string& app_id, const std::string& user_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<std::string>> {
      auto st = c.prepare(
          "SELECT m.channel_id FROM members m JOIN channels c ON c.app_id = m.app_id AND c.id = m.channel_id "
          "WHERE m.app_id = $1 AND m.user_id = $2 AND c.deleted_at IS NULL");
      st.bind(1, app_id).bind(2, user_id);
      std::vector<std::string> out;
      while (st.step()) out.push_back(st.text(0));
      return out;
    });
  }

  Result<std::optional<MemberRecord>> get_member(const std::string& app_id, const std::string& channel_id,
                                                 const std::string& user_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::optional<MemberRecord>> {
      auto st =
          c.prepare("SELECT " MEMBER_COLS("") " FROM members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3");
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id);
      if (!st.step()) return std::optional<MemberRecord>{};
      return std::optional<MemberRecord>{read_member(st)};
    });
  }

  Result<std::vector<MemberRecord>> list_members(const std::string& app_id, const std::string& channel_id,
                                                 const std::string& after_user_id, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<MemberRecord>> {
      auto st = c.prepare("SELECT " MEMBER_COLS(
          "") " FROM members WHERE app_id = $1 AND channel_id = $2 "
              "AND user_id > $3 ORDER BY user_id LIMIT $4");
      st.bind(1, app_id).bind(2, channel_id).bind(3, after_user_id).bind(4, limit);
      std::vector<MemberRecord> out;
      while (st.step()) out.push_back(read_member(st));
      return out;
    });
  }

  Result<std::vector<std::string>> add_members(const std::string& app_id, const std::string& channel_id,
                                               const std::vector<MemberRecord>& members,
                                               std::int64_t max_members) override {
    return add_members_if(nullptr, app_id, channel_id, members, max_members);
  }

  Result<std::vector<std::string>> add_members_checked(const Guard& guard, const std::string& app_id,
                                                       const std::string& channel_id,
                                                       const std::vector<MemberRecord>& members,
                                                       std::int64_t max_members) override {
    return add_members_if(&guard, app_id, channel_id, members, max_members);
  }

 private:
  Result<std::vector<std::string>> add_members_if(const Guard* guard, const std::string& app_id,
                                                  const std::string& channel_id,
                                                  const std::vector<MemberRecord>& members, std::int64_t max_members) {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<std::string>> {
      Transaction tx(c);
      // The app row first: membership changes of the app queue here, so the checks below hold
      // until the commit. Returning without a commit rolls the version back.
      std::int64_t v = chat_sql::next_version<Db>(c, app_id);
      if (guard) {
        chat_sql::lock_channel<Db>(c, app_id, channel_id);
        PARLEY_TRY(chat_sql::judge(c, *guard, app_id, channel_id, nullptr, nullptr));
      }
      std::vector<std::string> added;
      std::vector<const MemberRecord*> fresh;
      for (const auto& m : members) {
        auto st = c.prepare("SELECT 1 FROM members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3");
        st.bind(1, app_id).bind(2, channel_id).bind(3, m.user_id);
        if (!st.step()) fresh.push_back(&m);
      }
      if (fresh.empty()) return added;
      std::int64_t count = 0;
      std::int64_t last_seq = 0;
      {
        auto st =
            c.prepare("SELECT member_count, last_seq FROM channels WHERE app_id = $1 AND id = $2 FOR NO KEY UPDATE");
        st.bind(1, app_id).bind(2, channel_id);
        if (!st.step()) return not_found("channel");
        count = st.int64(0);
        last_seq = st.int64(1);
      }
      if (count + static_cast<std::int64_t>(fresh.size()) > max_members) {
        Error e{Errc::validation_failed, "the channel would exceed its member limit of " + std::to_string(max_members)};
        return e.with("limit", std::to_string(max_members));
      }
      for (const auto* m : fresh) {
        MemberRecord rec = *m;
        // A newcomer starts with everything before them read: unread counts what came after.
        // (The channel row is locked, so no message arrives in between.)
        rec.last_read_seq = last_seq;
        chat_sql::insert_member(c, rec, v);
        added.push_back(rec.user_id);
      }
      {
        auto st = c.prepare("UPDATE channels SET member_count = member_count + $1 WHERE app_id = $2 AND id = $3");
        st.bind(1, static_cast<std::int64_t>(added.size())).bind(2, app_id).bind(3, channel_id).run();
      }
      tx.commit();
      return added;
    });
  }

  Status remove_member(const std::string& app_id, const std::string& channel_id, const std::string& user_id) override {
    return remove_member_if(nullptr, app_id, channel_id, user_id);
  }

  Status remove_member_checked(const Guard& guard, const std::string& app_id, const std::string& channel_id,
                               const std::string& user_id) override {
    return remove_member_if(&guard, app_id, channel_id, user_id);
  }

 private:
  Status remove_member_if(const Guard* guard, const std::string& app_id, const std::string& channel_id,
                          const std::string& user_id) {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      // Lock order: app, channel, member (a send locks channel then members).
      std::int64_t v = chat_sql::next_version<Db>(c, app_id);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);
      if (guard) PARLEY_TRY(chat_sql::judge(c, *guard, app_id, channel_id, &user_id, nullptr));
      {
        auto st = c.prepare("DELETE FROM members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3");
        st.bind(1, app_id).bind(2, channel_id).bind(3, user_id).run();
        if (c.changes() == 0) return not_found("member");
      }
      {
        auto st = c.prepare("UPDATE channels SET member_count = member_count - 1 WHERE app_id = $1 AND id = $2");
        st.bind(1, app_id).bind(2, channel_id).run();
      }
      {
        auto st = c.prepare("INSERT INTO departures(app_id, user_id, version, channel_id) VALUES($1, $2, $3, $4)");
        st.bind(1, app_id).bind(2, user_id).bind(3, v).bind(4, channel_id).run();
      }
      tx.commit();
      return ok_status();
    });
  }

  Result<MemberRecord> update_member(const MemberRecord& m) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MemberRecord> {
      Transaction tx(c);
      std::int64_t v = chat_sql::next_version<Db>(c, m.app_id);  // sync lists the channel as updated
      auto out = save_member(c, m, v);
      if (out) tx.commit();
      return out;
    });
  }

  Result<MemberRecord> update_member_checked(const Guard& guard, const std::string& app_id,
                                             const std::string& channel_id, const std::string& user_id,
                                             const std::function<void(MemberRecord&)>& change) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MemberRecord> {
      Transaction tx(c);
      std::int64_t v = chat_sql::next_version<Db>(c, app_id);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);  // role changes queue with the checks that read roles
      auto s = chat_sql::judge(c, guard, app_id, channel_id, &user_id, nullptr);
      if (!s) return std::move(s).error();
      if (!s->subject) return not_found("member");
      change(*s->subject);
      auto out = save_member(c, *s->subject, v);
      if (out) tx.commit();
      return out;
    });
  }

 private:
  // update_member's statement, inside the caller's transaction at change version `v`.
  Result<MemberRecord> save_member(Connection& c, const MemberRecord& m, std::int64_t v) {
    MemberRecord out;
    {
      auto st = c.prepare(
          "UPDATE members SET role = $4, muted = $5, starred = $6, hidden = $7, changed_version = $8 "
          "WHERE app_id = $1 AND channel_id = $2 AND user_id = $3 RETURNING " MEMBER_COLS(""));
      st.bind(1, m.app_id).bind(2, m.channel_id).bind(3, m.user_id).bind(4, role_name(m.role)).bind_bool(5, m.muted);
      st.bind_bool(6, m.starred).bind_bool(7, m.hidden).bind(8, v);
      if (!st.step()) return not_found("member");
      out = read_member(st);
    }
    return out;
  }

 public:
  Result<MemberRecord> mark_read(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                                 std::int64_t seq) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MemberRecord> {
      auto st = c.prepare(
          "UPDATE members SET last_read_seq = GREATEST(last_read_seq, LEAST($4::bigint, "
          "(SELECT last_seq FROM channels WHERE app_id = $1 AND id = $2))) "
          "WHERE app_id = $1 AND channel_id = $2 AND user_id = $3 RETURNING " MEMBER_COLS(""));
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id).bind(4, seq);
      if (!st.step()) return not_found("member");
      return read_member(st);
    });
  }

  Result<std::int64_t> unread_count(const std::string& app_id, const std::string& channel_id,
                                    std::int64_t after_seq) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::int64_t> {
      auto st = c.prepare(
          "SELECT c.last_seq - $3::bigint - (SELECT count(*) FROM messages d WHERE d.app_id = $1 "
          "AND d.channel_id = $2 AND d.seq > $3::bigint AND d.deleted_at IS NOT NULL) "
          "FROM channels c WHERE c.app_id = $1 AND c.id = $2");
      st.bind(1, app_id).bind(2, channel_id).bind(3, after_seq);
      if (!st.step()) return not_found("channel");
      return std::max<std::int64_t>(0, st.int64(0));
    });
  }

  Result<std::vector<std::string>> seen_by(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                           const std::string& except_user) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<std::string>> {
      auto st = c.prepare(
          "SELECT user_id FROM members WHERE app_id = $1 AND channel_id = $2 AND last_read_seq >= $3 "
          "AND user_id <> $4 "
          "AND joined_at <= (SELECT created_at FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3) "
          "ORDER BY user_id");
      st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, except_user);
      std::vector<std::string> out;
      while (st.step()) out.push_back(st.text(0));
      return out;
    });
  }

  void send_batch(std::vector<QueuedSend>& batch, const SendRule& rule) override { sends_.send_batch(batch, rule); }

  Result<MessageRecord> get_message(const std::string& app_id, const std::string& channel_id,
                                    std::int64_t seq) override {
    return sql::with_conn(pool_, [&](Connection& c) { return chat_sql::message_on(c, app_id, channel_id, seq); });
  }

  Status delete_outbox(const std::vector<OutboxRow>& rows) override {
    if (rows.empty()) return ok_status();
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      Transaction tx(c);
      for (const auto& r : rows) {
        auto st = c.prepare("DELETE FROM event_outbox WHERE app_id = $1 AND channel_id = $2 AND first_seq = $3");
        st.bind(1, r.app_id).bind(2, r.channel_id).bind(3, r.first_seq).run();
      }
      tx.commit();
      return ok_status();
    });
  }

  Result<std::vector<OutboxRow>> stale_outbox(TimeMs before, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<OutboxRow>> {
      auto st = c.prepare(
          "SELECT app_id, channel_id, first_seq, last_seq, created_at FROM event_outbox WHERE created_at < $1 "
          "ORDER BY created_at LIMIT $2");
      st.bind(1, before).bind(2, limit);
      std::vector<OutboxRow> out;
      while (st.step()) out.push_back({st.text(0), st.text(1), st.int64(2), st.int64(3), st.int64(4)});
      return out;
    });
  }

  Result<std::vector<MessageRecord>> list_messages(const std::string& app_id, const std::string& channel_id,
                                                   std::optional<std::int64_t> after_seq,
                                                   std::optional<std::int64_t> before_seq, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<MessageRecord>> {
      std::vector<MessageRecord> out;
      if (after_seq) {
        auto st = c.prepare("SELECT " MESSAGE_COLS(
            "") " FROM messages WHERE app_id = $1 AND channel_id = $2 "
                "AND seq > $3 ORDER BY seq LIMIT $4");
        st.bind(1, app_id).bind(2, channel_id).bind(3, *after_seq).bind(4, limit);
        while (st.step()) out.push_back(read_message(st));
      } else {
        auto st = c.prepare("SELECT " MESSAGE_COLS(
            "") " FROM messages WHERE app_id = $1 AND channel_id = $2 "
                "AND seq < $3 ORDER BY seq DESC LIMIT $4");
        st.bind(1, app_id).bind(2, channel_id);
        st.bind(3, before_seq.value_or(std::numeric_limits<std::int64_t>::max())).bind(4, limit);
        while (st.step()) out.push_back(read_message(st));
        std::reverse(out.begin(), out.end());
      }
      return out;
    });
  }

  Result<std::vector<MessageRecord>> list_replies(const std::string& app_id, const std::string& channel_id,
                                                  std::int64_t parent_seq, std::int64_t after_seq, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<MessageRecord>> {
      auto st = c.prepare("SELECT " MESSAGE_COLS(
          "") " FROM messages WHERE app_id = $1 AND channel_id = $2 "
              "AND parent_seq = $3 AND seq > $4 ORDER BY seq LIMIT $5");
      st.bind(1, app_id).bind(2, channel_id).bind(3, parent_seq).bind(4, after_seq).bind(5, limit);
      std::vector<MessageRecord> out;
      while (st.step()) out.push_back(read_message(st));
      return out;
    });
  }

  Result<MessageRecord> edit_message(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                     const std::string& text, const std::optional<std::string>& attachments_json,
                                     TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MessageRecord> {
      auto st = c.prepare(kEditSql);
      st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, text).bind(5, attachments_json).bind(6, at);
      if (!st.step()) return not_found("message");
      return read_message(st);
    });
  }

  Result<MessageRecord> edit_message_checked(const Guard& guard, const std::string& app_id,
                                             const std::string& channel_id, std::int64_t seq, const std::string& text,
                                             const std::optional<std::string>& attachments_json, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MessageRecord> {
      Transaction tx(c);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);
      PARLEY_TRY(chat_sql::judge(c, guard, app_id, channel_id, nullptr, &seq));
      auto st = c.prepare(kEditSql);
      st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, text).bind(5, attachments_json).bind(6, at);
      if (!st.step()) return not_found("message");
      MessageRecord out = read_message(st);
      st.run();  // SQLite commits only once the statement is done
      tx.commit();
      return out;
    });
  }

  Result<MessageRecord> delete_message(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                       TimeMs at, bool purge) override {
    return delete_message_if(nullptr, app_id, channel_id, seq, at, purge);
  }

  Result<MessageRecord> delete_message_checked(const Guard& guard, const std::string& app_id,
                                               const std::string& channel_id, std::int64_t seq, TimeMs at) override {
    return delete_message_if(&guard, app_id, channel_id, seq, at, false);
  }

 private:
  Result<MessageRecord> delete_message_if(const Guard* guard, const std::string& app_id, const std::string& channel_id,
                                          std::int64_t seq, TimeMs at, bool purge) {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MessageRecord> {
      Transaction tx(c);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);  // before the message row, as a reply's send does
      if (guard) PARLEY_TRY(chat_sql::judge(c, *guard, app_id, channel_id, nullptr, &seq));
      {
        auto st = c.prepare(
            "UPDATE messages SET deleted_at = $4, text = '', attachments = '[]', link_previews = '[]', pinned_at = "
            "NULL "
            "WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND deleted_at IS NULL");
        st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, at).run();
      }
      if (c.changes() > 0) {
        auto st = c.prepare("UPDATE channels SET deleted_count = deleted_count + 1 WHERE app_id = $1 AND id = $2");
        st.bind(1, app_id).bind(2, channel_id).run();
        // A deleted reply leaves its thread: the parent's count and last reply time are those of
        // the replies still there.
        auto parent = c.prepare(
            "UPDATE messages AS p SET "
            "reply_count = (SELECT count(*) FROM messages r WHERE r.app_id = $1 AND r.channel_id = $2 "
            "AND r.parent_seq = p.seq AND r.deleted_at IS NULL), "
            "last_reply_at = (SELECT max(r.created_at) FROM messages r WHERE r.app_id = $1 AND r.channel_id = $2 "
            "AND r.parent_seq = p.seq AND r.deleted_at IS NULL) "
            "WHERE p.app_id = $1 AND p.channel_id = $2 AND p.seq = "
            "(SELECT parent_seq FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3)");
        parent.bind(1, app_id).bind(2, channel_id).bind(3, seq).run();
      }
      if (purge) {
        for (const char* sql : {"DELETE FROM reactions WHERE app_id = $1 AND channel_id = $2 AND seq = $3",
                                "DELETE FROM message_flags WHERE app_id = $1 AND channel_id = $2 AND seq = $3",
                                "UPDATE messages SET mentions = '[]', reactions = '{}', client_msg_id = NULL, "
                                "pinned_at = NULL WHERE app_id = $1 AND channel_id = $2 AND seq = $3"}) {
          auto st = c.prepare(sql);
          st.bind(1, app_id).bind(2, channel_id).bind(3, seq).run();
        }
      }
      auto out = chat_sql::message_on(c, app_id, channel_id, seq);
      if (out) tx.commit();
      return out;
    });
  }

 public:
  Result<std::optional<MessageRecord>> set_link_previews(const std::string& app_id, const std::string& channel_id,
                                                         std::int64_t seq, std::optional<TimeMs> edited_at,
                                                         const std::string& previews_json) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::optional<MessageRecord>> {
      // edited_at guards against a job that read the text before an edit: only the job of the
      // text as it is now attaches.
      auto st = c.prepare(
          "UPDATE messages SET link_previews = $5 WHERE app_id = $1 AND channel_id = $2 AND seq = $3 "
          "AND deleted_at IS NULL AND coalesce(edited_at, 0) = $4 AND link_previews <> $5 RETURNING " MESSAGE_COLS(""));
      st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, edited_at.value_or(0)).bind(5, previews_json);
      if (!st.step()) return std::optional<MessageRecord>{};
      std::optional<MessageRecord> out = read_message(st);
      st.run();  // SQLite commits only once the statement is done
      return out;
    });
  }

  Result<MessageRecord> set_reaction(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                     const std::string& user_id, const std::string& type, bool on, TimeMs at) override {
    return set_reaction_if(nullptr, app_id, channel_id, seq, user_id, type, on, at);
  }

  Result<MessageRecord> set_reaction_checked(const Guard& guard, const std::string& app_id,
                                             const std::string& channel_id, std::int64_t seq,
                                             const std::string& user_id, const std::string& type, bool on,
                                             TimeMs at) override {
    return set_reaction_if(&guard, app_id, channel_id, seq, user_id, type, on, at);
  }

 private:
  Result<MessageRecord> set_reaction_if(const Guard* guard, const std::string& app_id, const std::string& channel_id,
                                        std::int64_t seq, const std::string& user_id, const std::string& type, bool on,
                                        TimeMs at) {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MessageRecord> {
      Transaction tx(c);
      if (guard) {  // the channel row before the message row, as a delete does
        chat_sql::lock_channel<Db>(c, app_id, channel_id);
        PARLEY_TRY(chat_sql::judge(c, *guard, app_id, channel_id, nullptr, &seq));
      }
      {
        // Reactions to one message queue on its row, so each recount sees the ones before it.
        auto st =
            c.prepare("SELECT 1 FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3 FOR NO KEY UPDATE");
        st.bind(1, app_id).bind(2, channel_id).bind(3, seq);
        if (!st.step()) return not_found("message");
      }
      if (on) {
        auto st = c.prepare(
            "INSERT INTO reactions(app_id, channel_id, seq, user_id, type, created_at) "
            "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING");
        st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, user_id).bind(5, type).bind(6, at).run();
      } else {
        auto st = c.prepare(
            "DELETE FROM reactions WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND user_id = $4 AND type = $5");
        st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, user_id).bind(5, type).run();
      }
      if (c.changes() > 0) {
        auto st = c.prepare(Db::kRecountReactions);
        st.bind(1, app_id).bind(2, channel_id).bind(3, seq).run();
      }
      auto out = chat_sql::message_on(c, app_id, channel_id, seq);
      if (out) tx.commit();
      return out;
    });
  }

 public:
  Result<std::vector<std::pair<std::int64_t, std::string>>> own_reactions(const std::string& app_id,
                                                                          const std::string& channel_id,
                                                                          const std::string& user_id, std::int64_t lo,
                                                                          std::int64_t hi) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<std::pair<std::int64_t, std::string>>> {
      auto st = c.prepare(
          "SELECT seq, type FROM reactions WHERE app_id = $1 AND channel_id = $2 AND user_id = $3 "
          "AND seq BETWEEN $4 AND $5 ORDER BY seq, type");
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id).bind(4, lo).bind(5, hi);
      std::vector<std::pair<std::int64_t, std::string>> out;
      while (st.step()) out.emplace_back(st.int64(0), st.text(1));
      return out;
    });
  }

  Result<MessageRecord> set_pinned(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                   std::optional<TimeMs> at, int max_pins) override {
    return set_pinned_if(nullptr, app_id, channel_id, seq, at, max_pins);
  }

  Result<MessageRecord> set_pinned_checked(const Guard& guard, const std::string& app_id, const std::string& channel_id,
                                           std::int64_t seq, std::optional<TimeMs> at, int max_pins) override {
    return set_pinned_if(&guard, app_id, channel_id, seq, at, max_pins);
  }

 private:
  Result<MessageRecord> set_pinned_if(const Guard* guard, const std::string& app_id, const std::string& channel_id,
                                      std::int64_t seq, std::optional<TimeMs> at, int max_pins) {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<MessageRecord> {
      Transaction tx(c);
      chat_sql::lock_channel<Db>(c, app_id, channel_id);  // pins of a channel queue here, so the count holds
      if (guard) PARLEY_TRY(chat_sql::judge(c, *guard, app_id, channel_id, nullptr, &seq));
      auto current = chat_sql::message_on(c, app_id, channel_id, seq);
      if (!current) return current;
      if (at && !current->pinned_at) {
        auto st =
            c.prepare("SELECT count(*) FROM messages WHERE app_id = $1 AND channel_id = $2 AND pinned_at IS NOT NULL");
        st.bind(1, app_id).bind(2, channel_id);
        st.step();
        if (st.int64(0) >= max_pins) {
          Error e{Errc::validation_failed, "a channel holds at most " + std::to_string(max_pins) + " pins"};
          return e.with("limit", std::to_string(max_pins));
        }
      }
      if (at.has_value() != current->pinned_at.has_value()) {
        auto st = c.prepare("UPDATE messages SET pinned_at = $1 WHERE app_id = $2 AND channel_id = $3 AND seq = $4");
        st.bind(1, at).bind(2, app_id).bind(3, channel_id).bind(4, seq).run();
      }
      auto out = chat_sql::message_on(c, app_id, channel_id, seq);
      tx.commit();
      return out;
    });
  }

 public:
  Result<std::vector<MessageRecord>> list_pinned(const std::string& app_id, const std::string& channel_id) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<MessageRecord>> {
      auto st = c.prepare("SELECT " MESSAGE_COLS(
          "") " FROM messages WHERE app_id = $1 AND channel_id = $2 "
              "AND pinned_at IS NOT NULL ORDER BY pinned_at DESC, seq DESC");
      st.bind(1, app_id).bind(2, channel_id);
      std::vector<MessageRecord> out;
      while (st.step()) out.push_back(read_message(st));
      return out;
    });
  }

  Status set_flag(const std::string& app_id, const std::string& user_id, const std::string& channel_id,
                  std::int64_t seq, MessageFlag flag, bool on, TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      int bit = static_cast<int>(flag);
      if (on) {
        auto st = c.prepare(
            "INSERT INTO message_flags(app_id, user_id, channel_id, seq, flags, created_at) "
            "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (app_id, user_id, channel_id, seq) DO UPDATE SET "
            "flags = message_flags.flags | excluded.flags, created_at = CASE WHEN "
            "(message_flags.flags & excluded.flags) <> 0 THEN message_flags.created_at ELSE excluded.created_at END");
        st.bind(1, app_id).bind(2, user_id).bind(3, channel_id).bind(4, seq).bind(5, bit).bind(6, at).run();
        return ok_status();
      }
      Transaction tx(c);
      {
        auto st = c.prepare(
            "UPDATE message_flags SET flags = flags & ~$1::integer WHERE app_id = $2 AND user_id = $3 "
            "AND channel_id = $4 AND seq = $5");
        st.bind(1, bit).bind(2, app_id).bind(3, user_id).bind(4, channel_id).bind(5, seq).run();
      }
      {
        auto st = c.prepare(
            "DELETE FROM message_flags WHERE app_id = $1 AND user_id = $2 AND channel_id = $3 AND seq = $4 "
            "AND flags = 0");
        st.bind(1, app_id).bind(2, user_id).bind(3, channel_id).bind(4, seq).run();
      }
      tx.commit();
      return ok_status();
    });
  }

  Result<std::vector<FlaggedMessage>> list_flagged(const std::string& app_id, const std::string& user_id,
                                                   MessageFlag flag, bool unread_only,
                                                   const std::optional<FlagCursor>& after, int limit) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<FlaggedMessage>> {
      auto st = c.prepare("SELECT " MESSAGE_COLS(
          "msg.") ", f.created_at FROM message_flags f "
                  "JOIN messages msg ON msg.app_id = f.app_id AND msg.channel_id = f.channel_id AND msg.seq = f.seq "
                  "JOIN members m ON m.app_id = f.app_id AND m.channel_id = f.channel_id AND m.user_id = f.user_id "
                  "JOIN channels c ON c.app_id = f.app_id AND c.id = f.channel_id AND c.deleted_at IS NULL "
                  "WHERE f.app_id = $1 AND f.user_id = $2 AND (f.flags & $3::integer) <> 0 "
                  "AND msg.deleted_at IS NULL AND (NOT $4::boolean OR f.seq > m.last_read_seq) "
                  "AND ($5::bigint IS NULL OR (f.created_at, f.channel_id, f.seq) < ($5, $6::text, $7::bigint)) "
                  "ORDER BY f.created_at DESC, f.channel_id DESC, f.seq DESC LIMIT $8");
      st.bind(1, app_id).bind(2, user_id).bind(3, static_cast<int>(flag)).bind_bool(4, unread_only);
      if (after)
        st.bind(5, after->flagged_at).bind(6, after->channel_id).bind(7, after->seq);
      else
        st.bind_null(5).bind_null(6).bind_null(7);
      st.bind(8, limit);
      std::vector<FlaggedMessage> out;
      while (st.step()) out.push_back({read_message(st), st.int64(kMessageCols)});
      return out;
    });
  }

  Status set_block(const std::string& app_id, const std::string& blocker, const std::string& blocked, bool on,
                   TimeMs at) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Status {
      if (on) {
        auto st = c.prepare(
            "INSERT INTO blocks(app_id, blocker, blocked, created_at) VALUES($1, $2, $3, $4) ON CONFLICT DO NOTHING");
        st.bind(1, app_id).bind(2, blocker).bind(3, blocked).bind(4, at).run();
      } else {
        auto st = c.prepare("DELETE FROM blocks WHERE app_id = $1 AND blocker = $2 AND blocked = $3");
        st.bind(1, app_id).bind(2, blocker).bind(3, blocked).run();
      }
      return ok_status();
    });
  }

  Result<std::vector<std::pair<std::string, TimeMs>>> list_blocks(const std::string& app_id,
                                                                  const std::string& blocker) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<std::vector<std::pair<std::string, TimeMs>>> {
      auto st = c.prepare("SELECT blocked, created_at FROM blocks WHERE app_id = $1 AND blocker = $2 ORDER BY blocked");
      st.bind(1, app_id).bind(2, blocker);
      std::vector<std::pair<std::string, TimeMs>> out;
      while (st.step()) out.emplace_back(st.text(0), st.int64(1));
      return out;
    });
  }

  Result<bool> blocked_either(const std::string& app_id, const std::string& a, const std::string& b) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<bool> {
      auto st = c.prepare(
          "SELECT EXISTS (SELECT 1 FROM blocks WHERE app_id = $1 AND ((blocker = $2 AND blocked = $3) "
          "OR (blocker = $3 AND blocked = $2)))");
      st.bind(1, app_id).bind(2, a).bind(3, b);
      st.step();
      return st.boolean(0);
    });
  }

  Result<ChannelChanges> channel_changes(const std::string& app_id, const std::string& user_id,
                                         std::optional<std::int64_t> since) override {
    return sql::with_conn(pool_, [&](Connection& c) -> Result<ChannelChanges> {
      ChannelChanges out;
      // One snapshot: the cursor and the rows agree.
      Transaction snapshot(c, Transaction::Kind::read_snapshot);
      {
        auto st = c.prepare("SELECT change_seq FROM apps WHERE id = $1");
        st.bind(1, app_id);
        if (!st.step()) return not_found("app");
        out.cursor = st.int64(0);
      }
      std::int64_t from = since.value_or(-1);
      auto st =
          c.prepare(std::string(chat_sql::kViewSelect) +
                    " FROM members m JOIN channels c ON c.app_id = m.app_id AND c.id = m.channel_id "
                    "LEFT JOIN messages lm ON lm.app_id = c.app_id AND lm.channel_id = c.id AND lm.seq = c.last_seq "
                    "WHERE m.app_id = $1 AND m.user_id = $2 "
                    "AND (m.version > $3 OR c.version > $3 OR m.changed_version > $3) "
                    "ORDER BY c.activity_at DESC, c.id");
      st.bind(1, app_id).bind(2, user_id).bind(3, from);
      while (st.step()) {
        ChannelView v = chat_sql::read_view(st);
        if (v.channel.deleted_at) {
          if (since) out.removed.push_back(v.channel.id);
        } else if (!since || v.membership->version > from) {
          out.added.push_back(std::move(v));
        } else {
          out.updated.push_back(std::move(v));
        }
      }
      if (since) {
        auto dt = c.prepare(
            "SELECT DISTINCT d.channel_id FROM departures d WHERE d.app_id = $1 AND d.user_id = $2 "
            "AND d.version > $3 AND NOT EXISTS (SELECT 1 FROM members m WHERE m.app_id = $1 "
            "AND m.channel_id = d.channel_id AND m.user_id = $2)");
        dt.bind(1, app_id).bind(2, user_id).bind(3, from);
        while (dt.step()) out.removed.push_back(dt.text(0));
      }
      snapshot.commit();
      return out;
    });
  }

 private:
  static constexpr const char* kEditSql =
      "UPDATE messages SET text = $4, attachments = coalesce($5::text, attachments), edited_at = $6 "
      "WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND deleted_at IS NULL RETURNING " MESSAGE_COLS("");

  Pool& pool_;
  Sends sends_;
};

}  // namespace parley::store::sql
