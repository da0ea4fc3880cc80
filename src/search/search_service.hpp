#pragma once
// Search over what a user may see (docs/search.md): messages of the channels they are a member
// of (and public ones, when asked), never another app's; channels by name and topic; the user's
// recent queries. Reads the index the Indexer keeps. Over the shared SQL layer: one set of
// queries, with the match and rank expressions of the store's engine (FTS5 or tsvector).
// Thread-safe; calls block on the database.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "search/query.hpp"
#include "store/chat_types.hpp"

namespace parley::store::sql {
class Database;
}

namespace parley::search {

/// Relevance ranks the newest this many matches the user may see; the total counts up to it.
inline constexpr int kRankWindow = 500;

enum class Sort { relevance, newest };

struct MessageQuery {
  std::string app_id;
  std::string user_id;
  Query query;
  std::vector<std::string> channel_ids;  // empty: every channel the user may search
  std::vector<std::string> from_users;   // empty: anyone
  std::optional<TimeMs> after, before;   // created_at >= after, < before
  bool has_attachment = false;
  bool has_link = false;
  std::optional<bool> in_thread;  // true: replies only; false: top-level only
  bool mentions_me = false;
  bool pinned = false;
  bool saved = false;
  bool include_public = false;  // also public channels the user has not joined
  Sort sort = Sort::relevance;
  int limit = 20;
  std::string cursor;               // next_cursor of the previous page; empty for the first
  std::string language = "simple";  // the app's text search configuration (PostgreSQL)
};

struct MessageHit {
  store::MessageRecord message;
  store::ChannelType channel_type = store::ChannelType::group;
  std::string channel_name;
  double score = 0;  // higher is more relevant; engines differ (docs/search.md, "Ranking")
  Snippet snippet;
};

struct MessageResults {
  std::vector<MessageHit> hits;
  std::int64_t total = 0;
  bool exact = true;  // false: there are more than `total` (kRankWindow)
  std::optional<std::string> next_cursor;
};

struct ChannelResults {
  std::vector<store::ChannelRecord> mine;    // the user's channels
  std::vector<store::ChannelRecord> others;  // public channels they have not joined
};

struct RecentQuery {
  std::string query;
  TimeMs at = 0;
};

class SearchService {
 public:
  explicit SearchService(store::sql::Database& db);

  /// invalid_request (parameter "cursor") for a cursor this search did not issue.
  Result<MessageResults> messages(const MessageQuery& q);
  /// Channels whose name has a word starting with `q`, or whose topic contains it (any case).
  Result<ChannelResults> channels(const std::string& app_id, const std::string& user_id, const std::string& q,
                                  int limit, bool include_public);

  /// Remembers `query` as the user's newest; keeps the last kRecentKept.
  Status remember(const std::string& app_id, const std::string& user_id, const std::string& query, TimeMs at);
  /// The user's recent queries starting with `prefix` (any case), newest first.
  Result<std::vector<RecentQuery>> recent(const std::string& app_id, const std::string& user_id,
                                          const std::string& prefix, int limit);
  Status forget_recent(const std::string& app_id, const std::string& user_id);
  /// Drops the app's index so the indexer builds it again (on PostgreSQL, after the app's
  /// search_language changed; SQLite indexes every language alike and keeps its index).
  Status reindex_app(const std::string& app_id);

  static constexpr int kRecentKept = 20;

 private:
  store::sql::Database& db_;
  bool postgres_;
};

}  // namespace parley::search
