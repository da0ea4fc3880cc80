#include "search/search_service.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <variant>

#include "store/chat_rows.hpp"
#include "store/sql/database.hpp"
#include "store/sql/text.hpp"

namespace parley::search {

using store::sql::Connection;
using store::sql::Statement;

namespace {

// Parameters of a query built piece by piece: add() returns the placeholder of the value.
class Params {
 public:
  std::string add(std::int64_t v) {
    values_.emplace_back(v);
    return "$" + std::to_string(values_.size());
  }
  std::string add(std::string v) {
    values_.emplace_back(std::move(v));
    return "$" + std::to_string(values_.size());
  }
  void bind(Statement& st) const {
    for (std::size_t i = 0; i < values_.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      if (const auto* n = std::get_if<std::int64_t>(&values_[i])) {
        st.bind(idx, *n);
      } else {
        st.bind(idx, std::get<std::string>(values_[i]));
      }
    }
  }

 private:
  std::vector<std::variant<std::int64_t, std::string>> values_;
};

struct Candidate {
  std::int64_t docid;
  double score;
};

// A cursor: "o<offset>" in relevance order, "d<docid>" in newest order.
struct Position {
  std::int64_t offset = 0;
  std::optional<std::int64_t> before_docid;
};

Result<Position> read_cursor(const std::string& cursor, Sort sort) {
  Position p;
  if (cursor.empty()) return p;
  std::int64_t n = 0;
  const char* b = cursor.data() + 1;
  const char* e = cursor.data() + cursor.size();
  auto [ptr, ec] = std::from_chars(b, e, n);
  char kind = cursor[0];
  bool ok = ec == std::errc() && ptr == e && n >= 0 &&
            ((kind == 'o' && sort == Sort::relevance && n <= kRankWindow) || (kind == 'd' && sort == Sort::newest));
  if (!ok) {
    Error err{Errc::invalid_request, "query parameter 'cursor' is not a cursor of this search"};
    return err.with("parameter", "cursor");
  }
  if (kind == 'o') {
    p.offset = n;
  } else {
    p.before_docid = n;
  }
  return p;
}

std::string in_list(Params& p, const std::vector<std::string>& values) {
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out += p.add(values[i]);
  }
  return out + ")";
}

}  // namespace

SearchService::SearchService(store::sql::Database& db) : db_(db), postgres_(db.driver() == "postgres") {}

Result<MessageResults> SearchService::messages(const MessageQuery& q) {
  PARLEY_ASSIGN_OR_RETURN(auto pos, read_cursor(q.cursor, q.sort));
  // The matches the user may see, newest first: up to limit (one page before a docid) or the
  // whole rank window.
  auto candidates = [&](Connection& c, std::optional<std::int64_t> before, int limit) {
    Params p;
    std::string sql;
    // The messages row only for the filters that need it: a deleted message still in the index
    // (for the moment until the indexer takes it out) is left out when the page is read.
    const bool need_message = q.after || q.before || q.has_attachment || q.has_link || q.in_thread || q.pinned;
    const std::string join_messages =
        need_message ? "JOIN messages m ON m.app_id = d.app_id AND m.channel_id = d.channel_id AND m.seq = d.seq "
                       "AND m.deleted_at IS NULL"
                     : "";
    if (postgres_) {
      auto match = p.add(to_tsquery(q.query));
      auto lang = p.add(q.language);
      sql = "SELECT d.docid, ts_rank(d.tsv, tq) FROM search_docs d " + join_messages + ", to_tsquery(" + lang +
            "::regconfig, " + match + ") AS tq WHERE d.tsv @@ tq";
    } else {
      // The user's words in the text column; channel and author filters as scope tokens, which
      // FTS5 intersects with the words' matches (the IN checks below still decide).
      std::string expr = "text : (" + to_fts5(q.query) + ")";
      auto scope_any = [&](char kind, const std::vector<std::string>& ids) {
        std::string out = " AND scope : (";
        for (std::size_t i = 0; i < ids.size(); ++i) {
          out += (i ? " OR \"" : "\"") + scope_token(kind, q.app_id, ids[i]) + "\"";
        }
        return out + ")";
      };
      if (!q.channel_ids.empty()) expr += scope_any('c', q.channel_ids);
      if (!q.from_users.empty()) expr += scope_any('u', q.from_users);
      auto match = p.add(expr);
      sql =
          "SELECT search_fts.rowid, -bm25(search_fts, 1.0, 0.0) FROM search_fts JOIN search_docs d ON d.docid = "
          "search_fts.rowid " +
          join_messages + " WHERE search_fts MATCH " + match;
    }
    auto app = p.add(q.app_id);
    auto user = p.add(q.user_id);
    // The channels the user may search, found once: theirs, and the public ones when asked.
    sql += " AND d.app_id = " + app +
           " AND d.channel_id IN (SELECT mb.channel_id FROM members mb JOIN channels c ON c.app_id = mb.app_id AND "
           "c.id = mb.channel_id WHERE mb.app_id = " +
           app + " AND mb.user_id = " + user + " AND c.deleted_at IS NULL" +
           (q.include_public ? " UNION SELECT id FROM channels WHERE app_id = " + app +
                                   " AND type = 'public' AND deleted_at IS NULL)"
                             : ")");
    if (!q.channel_ids.empty()) sql += " AND d.channel_id IN " + in_list(p, q.channel_ids);
    if (!q.from_users.empty()) sql += " AND d.user_id IN " + in_list(p, q.from_users);
    if (q.after) sql += " AND m.created_at >= " + p.add(*q.after);
    if (q.before) sql += " AND m.created_at < " + p.add(*q.before);
    if (q.has_attachment) sql += " AND m.attachments <> '[]'";
    if (q.has_link) sql += " AND m.text LIKE '%://%'";
    if (q.in_thread) sql += *q.in_thread ? " AND m.parent_seq IS NOT NULL" : " AND m.parent_seq IS NULL";
    if (q.pinned) sql += " AND m.pinned_at IS NOT NULL";
    auto flag = [&](int bit) {
      return " AND EXISTS (SELECT 1 FROM message_flags f WHERE f.app_id = d.app_id AND f.user_id = " + user +
             " AND f.channel_id = d.channel_id AND f.seq = d.seq AND (f.flags & " + std::to_string(bit) + ") <> 0)";
    };
    if (q.mentions_me) sql += flag(static_cast<int>(store::MessageFlag::mentioned));
    if (q.saved) sql += flag(static_cast<int>(store::MessageFlag::saved));
    std::string docid = postgres_ ? "d.docid" : "search_fts.rowid";
    if (before) sql += " AND " + docid + " < " + p.add(*before);
    sql += " ORDER BY " + docid + " DESC LIMIT " + p.add(static_cast<std::int64_t>(limit));
    auto st = c.prepare(sql);
    p.bind(*st);
    std::vector<Candidate> out;
    // The rank read as text: the SQL layer has no double column, and a rank needs no more.
    while (st->step()) out.push_back(Candidate{st->int64(0), std::strtod(st->text(1).c_str(), nullptr)});
    return out;
  };

  return db_.with_conn([&](Connection& c) -> Result<MessageResults> {
    MessageResults res;
    auto window = candidates(c, std::nullopt, kRankWindow + 1);
    res.exact = static_cast<int>(window.size()) <= kRankWindow;
    if (!res.exact) window.resize(kRankWindow);
    res.total = static_cast<std::int64_t>(window.size());
    std::vector<Candidate> page;
    if (q.sort == Sort::relevance) {
      std::stable_sort(window.begin(), window.end(), [](const Candidate& a, const Candidate& b) {
        return a.score != b.score ? a.score > b.score : a.docid > b.docid;
      });
      auto from = std::min<std::size_t>(static_cast<std::size_t>(pos.offset), window.size());
      auto to = std::min<std::size_t>(from + static_cast<std::size_t>(q.limit), window.size());
      page.assign(window.begin() + static_cast<std::ptrdiff_t>(from), window.begin() + static_cast<std::ptrdiff_t>(to));
      if (to < window.size()) res.next_cursor = "o" + std::to_string(to);
    } else {
      std::vector<Candidate> rows;
      if (!pos.before_docid) {
        rows = window;
      } else if (res.exact) {
        for (const auto& w : window) {
          if (w.docid < *pos.before_docid) rows.push_back(w);
        }
      } else {
        rows = candidates(c, pos.before_docid, q.limit + 1);
      }
      bool more = static_cast<int>(rows.size()) > q.limit;
      if (more) rows.resize(static_cast<std::size_t>(q.limit));
      page = std::move(rows);
      if (more || (!res.exact && !pos.before_docid && !page.empty())) {
        res.next_cursor = "d" + std::to_string(page.back().docid);
      }
    }
    for (const auto& cand : page) {
      auto st = c.prepare("SELECT " MESSAGE_COLS(
          "m.") ", c.type, c.name FROM search_docs d "
                "JOIN messages m ON m.app_id = d.app_id AND m.channel_id = d.channel_id AND m.seq = d.seq "
                "JOIN channels c ON c.app_id = d.app_id AND c.id = d.channel_id WHERE d.docid = $1 "
                "AND m.deleted_at IS NULL AND c.deleted_at IS NULL");
      st->bind(1, cand.docid);
      if (!st->step()) continue;  // deleted: its index entry goes in the indexer's next pass
      MessageHit hit;
      hit.message = store::read_message(*st);
      hit.channel_type = store::channel_type_column(st->text(store::kMessageCols));
      hit.channel_name = st->text(store::kMessageCols + 1);
      hit.score = cand.score;
      hit.snippet = make_snippet(hit.message.text, q.query);
      res.hits.push_back(std::move(hit));
    }
    return res;
  });
}

Result<ChannelResults> SearchService::channels(const std::string& app_id, const std::string& user_id,
                                               const std::string& q, int limit, bool include_public) {
  auto lower = store::sql::ascii_lower(q);
  std::string escaped = store::sql::like_prefix(lower);
  escaped.pop_back();  // without the trailing %
  const std::string match =
      "(c.name_lower LIKE $3 ESCAPE '\\' OR c.name_lower LIKE $4 ESCAPE '\\' OR lower(c.topic) LIKE $5 ESCAPE '\\')";
  auto bind = [&](Statement& st) {
    st.bind(1, app_id).bind(2, user_id).bind(3, escaped + "%").bind(4, "% " + escaped + "%");
    st.bind(5, "%" + escaped + "%").bind(6, static_cast<std::int64_t>(limit));
  };
  return db_.with_conn([&](Connection& c) -> Result<ChannelResults> {
    ChannelResults out;
    {
      auto st = c.prepare("SELECT " CHANNEL_COLS("c.") " FROM members mb JOIN channels c "
                          "ON c.app_id = mb.app_id AND c.id = mb.channel_id WHERE mb.app_id = $1 AND mb.user_id = $2 "
                          "AND c.deleted_at IS NULL AND " +
                          match + " ORDER BY c.activity_at DESC, c.id LIMIT $6");
      bind(*st);
      while (st->step()) out.mine.push_back(store::read_channel(*st));
    }
    if (include_public) {
      auto st = c.prepare("SELECT " CHANNEL_COLS("c.") " FROM channels c WHERE c.app_id = $1 AND c.type = 'public' "
                          "AND c.deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM members mb WHERE mb.app_id = "
                          "c.app_id AND mb.channel_id = c.id AND mb.user_id = $2) AND " +
                          match + " ORDER BY c.member_count DESC, c.name_lower, c.id LIMIT $6");
      bind(*st);
      while (st->step()) out.others.push_back(store::read_channel(*st));
    }
    return out;
  });
}

Status SearchService::remember(const std::string& app_id, const std::string& user_id, const std::string& query,
                               TimeMs at) {
  return db_.with_conn([&](Connection& c) -> Status {
    store::sql::Transaction tx(c);
    {
      auto st = c.prepare(
          "INSERT INTO search_recent(app_id, user_id, query, at) VALUES($1, $2, $3, $4) "
          "ON CONFLICT (app_id, user_id, query) DO UPDATE SET at = excluded.at");
      st->bind(1, app_id).bind(2, user_id).bind(3, query).bind(4, at).run();
    }
    auto st = c.prepare(
        "DELETE FROM search_recent WHERE app_id = $1 AND user_id = $2 AND query NOT IN (SELECT query FROM "
        "search_recent WHERE app_id = $1 AND user_id = $2 ORDER BY at DESC LIMIT $3)");
    st->bind(1, app_id).bind(2, user_id).bind(3, static_cast<std::int64_t>(kRecentKept)).run();
    tx.commit();
    return ok_status();
  });
}

Result<std::vector<RecentQuery>> SearchService::recent(const std::string& app_id, const std::string& user_id,
                                                       const std::string& prefix, int limit) {
  return db_.with_conn([&](Connection& c) -> Result<std::vector<RecentQuery>> {
    auto st = c.prepare(
        "SELECT query, at FROM search_recent WHERE app_id = $1 AND user_id = $2 AND lower(query) LIKE $3 "
        "ESCAPE '\\' ORDER BY at DESC LIMIT $4");
    st->bind(1, app_id).bind(2, user_id).bind(3, store::sql::like_prefix(store::sql::ascii_lower(prefix)));
    st->bind(4, static_cast<std::int64_t>(limit));
    std::vector<RecentQuery> out;
    while (st->step()) out.push_back(RecentQuery{st->text(0), st->int64(1)});
    return out;
  });
}

Status SearchService::forget_recent(const std::string& app_id, const std::string& user_id) {
  return db_.with_conn([&](Connection& c) -> Status {
    auto st = c.prepare("DELETE FROM search_recent WHERE app_id = $1 AND user_id = $2");
    st->bind(1, app_id).bind(2, user_id).run();
    return ok_status();
  });
}

Status SearchService::reindex_app(const std::string& app_id) {
  if (!postgres_) return ok_status();
  return db_.with_conn([&](Connection& c) -> Status {
    store::sql::Transaction tx(c);
    for (const char* sql :
         {"DELETE FROM search_docs WHERE app_id = $1", "DELETE FROM search_progress WHERE app_id = $1"}) {
      auto st = c.prepare(sql);
      st->bind(1, app_id).run();
    }
    tx.commit();
    return ok_status();
  });
}

}  // namespace parley::search
