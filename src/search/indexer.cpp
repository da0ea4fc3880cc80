#include "search/indexer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <tuple>

#include "bus/bus.hpp"
#include "search/query.hpp"
#include "store/sql/database.hpp"

namespace parley::search {

using store::sql::Connection;
using store::sql::Transaction;

namespace {
// The scope column of a message's FTS5 row: its channel's token and its author's.
std::string scope(const std::string& app_id, const std::string& channel_id, const std::string& user_id) {
  return scope_token('c', app_id, channel_id) + " " + scope_token('u', app_id, user_id);
}
}  // namespace

Indexer::Indexer(store::sql::Database& db, IndexerOptions opts, std::function<std::string(const std::string&)> language)
    : db_(db), opts_(opts), language_(std::move(language)), postgres_(db.driver() == "postgres") {}

Indexer::~Indexer() { stop(); }

void Indexer::start() {
  {
    MutexLock lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { loop(); });
}

void Indexer::stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Indexer::on_event(const bus::Envelope& e) {
  using bus::EventType;
  if (e.replay || e.channel_id.empty()) return;
  bool wake = false;
  {
    MutexLock lock(mu_);
    if (e.type == EventType::message_new || e.type == EventType::thread_reply) {
      wake = pending_.emplace(e.app_id, e.channel_id).second && pending_.size() == 1;
    } else if (e.type == EventType::message_updated || e.type == EventType::message_deleted) {
      wake = !dirty_;
      dirty_ = true;
    }
  }
  if (wake) cv_.notify_one();
}

void Indexer::sweep_soon() {
  {
    MutexLock lock(mu_);
    sweep_now_ = true;
  }
  cv_.notify_one();
}

IndexerStats Indexer::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

Result<std::int64_t> Indexer::catch_up() {
  PARLEY_ASSIGN_OR_RETURN(auto todo, behind());
  {
    MutexLock lock(mu_);
    todo.insert(pending_.begin(), pending_.end());
    pending_.clear();
    dirty_ = true;
  }
  std::int64_t total = 0;
  for (;;) {
    PARLEY_ASSIGN_OR_RETURN(auto n, pass(todo));
    total += n;
    if (todo.empty() && n == 0) break;
  }
  return total;
}

void Indexer::loop() {
  using clock = std::chrono::steady_clock;
  auto next_sweep = clock::now();  // at start: whatever the last run left
  std::set<ChannelKey> todo;
  for (;;) {
    {
      MutexLock lock(mu_);
      while (!stopping_ && !sweep_now_ && todo.empty() && pending_.empty() && !dirty_ && clock::now() < next_sweep) {
        lock.wait_until(cv_, next_sweep);
      }
      if (stopping_) return;
      if (sweep_now_) next_sweep = clock::now();
      sweep_now_ = false;
    }
    // Woken by a change: let the sends of the moment gather so one transaction indexes them
    // together. Behind (the last pass left work): no pause.
    if (todo.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(opts_.delay_ms));
    if (clock::now() >= next_sweep) {
      auto found = behind();
      if (found) {
        todo.insert(found->begin(), found->end());
      } else {
        spdlog::warn("search indexer: finding channels to index failed: {}", found.error().message);
      }
      next_sweep = clock::now() + std::chrono::milliseconds(opts_.sweep_interval_ms);
    }
    {
      MutexLock lock(mu_);
      todo.insert(pending_.begin(), pending_.end());
      pending_.clear();
    }
    auto n = pass(todo);
    if (!n) {
      spdlog::warn("search indexer: a pass failed (retried): {}", n.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

Result<std::set<Indexer::ChannelKey>> Indexer::behind() {
  return db_.with_conn([&](Connection& c) -> Result<std::set<ChannelKey>> {
    auto st = c.prepare(
        "SELECT ch.app_id, ch.id FROM channels ch LEFT JOIN search_progress p "
        "ON p.app_id = ch.app_id AND p.channel_id = ch.id WHERE ch.last_seq > coalesce(p.indexed_seq, 0)");
    std::set<ChannelKey> out;
    while (st->step()) out.emplace(st->text(0), st->text(1));
    return out;
  });
}

Result<std::int64_t> Indexer::pass(std::set<ChannelKey>& todo) {
  bool look_dirty = false;
  {
    MutexLock lock(mu_);
    look_dirty = dirty_;
    dirty_ = false;
  }
  std::int64_t indexed = 0, reindexed = 0;
  bool dirty_more = false;
  auto ran = db_.with_conn([&](Connection& c) -> Status {
    Transaction tx(c);
    std::int64_t budget = opts_.max_per_transaction;
    if (look_dirty) {
      reindexed = reindex_dirty(c, budget, dirty_more);
      budget -= reindexed;
    }
    std::set<ChannelKey> again;
    std::vector<NewDoc> docs;
    while (!todo.empty() && budget > 0) {
      auto ch = *todo.begin();
      todo.erase(todo.begin());
      bool more = false;
      auto n = index_channel(c, ch, budget, more, docs);
      indexed += n;
      budget -= n;
      if (more) again.insert(ch);
    }
    // Docids grow in creation order across the pass's channels, so that newest-first is the
    // order the messages were sent in.
    std::sort(docs.begin(), docs.end(), [](const NewDoc& a, const NewDoc& b) {
      return std::tie(a.created_at, a.app_id, a.channel_id, a.seq) <
             std::tie(b.created_at, b.app_id, b.channel_id, b.seq);
    });
    for (const auto& d : docs) add_doc(c, d.app_id, d.channel_id, d.seq, d.user_id, d.text);
    todo.insert(again.begin(), again.end());
    tx.commit();
    return ok_status();
  });
  MutexLock lock(mu_);
  if (!ran) {
    dirty_ = dirty_ || look_dirty;
    return std::move(ran).error();
  }
  if (dirty_more) dirty_ = true;
  stats_.indexed += indexed;
  stats_.reindexed += reindexed;
  ++stats_.passes;
  return indexed + reindexed;
}

void Indexer::add_doc(Connection& c, const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                      const std::string& user_id, const std::string& text) {
  if (postgres_) {
    auto st = c.prepare(
        "INSERT INTO search_docs(app_id, channel_id, seq, user_id, tsv) VALUES($1, $2, $3, $4, "
        "to_tsvector($5::regconfig, $6)) ON CONFLICT (app_id, channel_id, seq) DO UPDATE SET tsv = excluded.tsv");
    st->bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, user_id).bind(5, language_(app_id));
    st->bind(6, folded_text(text)).run();
    return;
  }
  auto doc =
      c.prepare("INSERT INTO search_docs(app_id, channel_id, seq, user_id) VALUES($1, $2, $3, $4) RETURNING docid");
  doc->bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, user_id);
  doc->step();
  auto docid = doc->int64(0);
  doc.reset();
  auto fts = c.prepare("INSERT INTO search_fts(rowid, text, scope) VALUES($1, $2, $3)");
  fts->bind(1, docid).bind(2, text).bind(3, scope(app_id, channel_id, user_id)).run();
}

std::int64_t Indexer::index_channel(Connection& c, const ChannelKey& ch, std::int64_t budget, bool& more,
                                    std::vector<NewDoc>& out) {
  const auto& [app_id, channel_id] = ch;
  {
    auto st = c.prepare(
        "INSERT INTO search_progress(app_id, channel_id, indexed_seq) VALUES($1, $2, 0) ON CONFLICT DO NOTHING");
    st->bind(1, app_id).bind(2, channel_id).run();
  }
  std::int64_t from = 0;
  {
    auto st = c.prepare("SELECT indexed_seq FROM search_progress WHERE app_id = $1 AND channel_id = $2 FOR UPDATE");
    st->bind(1, app_id).bind(2, channel_id);
    if (st->step()) from = st->int64(0);
  }
  std::int64_t last = from, read = 0;
  {
    auto st = c.prepare(
        "SELECT seq, text, deleted_at, user_id, created_at FROM messages WHERE app_id = $1 AND channel_id = $2 "
        "AND seq > $3 "
        "ORDER BY seq LIMIT $4");
    st->bind(1, app_id).bind(2, channel_id).bind(3, from).bind(4, budget + 1);
    while (st->step()) {
      if (read == budget) {
        more = true;
        break;
      }
      ++read;
      last = st->int64(0);
      auto text = st->text(1);
      if (st->is_null(2) && !text.empty()) {
        out.push_back(NewDoc{app_id, channel_id, last, st->int64(4), st->text(3), std::move(text)});
      }
    }
  }
  if (last == from) return 0;
  {
    // Edits of these messages before now: their current text is what goes in.
    auto st = c.prepare("DELETE FROM search_dirty WHERE app_id = $1 AND channel_id = $2 AND seq > $3 AND seq <= $4");
    st->bind(1, app_id).bind(2, channel_id).bind(3, from).bind(4, last).run();
  }
  auto st = c.prepare("UPDATE search_progress SET indexed_seq = $3 WHERE app_id = $1 AND channel_id = $2");
  st->bind(1, app_id).bind(2, channel_id).bind(3, last).run();
  return read;
}

std::int64_t Indexer::reindex_dirty(Connection& c, std::int64_t budget, bool& more) {
  struct Dirty {
    std::string app_id, channel_id;
    std::int64_t seq;
    std::string old_text;
  };
  std::vector<Dirty> rows;
  {
    auto st = c.prepare(postgres_ ? "SELECT app_id, channel_id, seq, old_text FROM search_dirty LIMIT $1 "
                                    "FOR UPDATE SKIP LOCKED"
                                  : "SELECT app_id, channel_id, seq, old_text FROM search_dirty LIMIT $1");
    st->bind(1, budget + 1);
    while (st->step()) {
      if (static_cast<std::int64_t>(rows.size()) == budget) {
        more = true;
        break;
      }
      rows.push_back(Dirty{st->text(0), st->text(1), st->int64(2), st->text(3)});
    }
  }
  for (const auto& d : rows) {
    std::optional<std::int64_t> docid;
    std::string indexed_author;
    {
      auto st = c.prepare("SELECT docid, user_id FROM search_docs WHERE app_id = $1 AND channel_id = $2 AND seq = $3");
      st->bind(1, d.app_id).bind(2, d.channel_id).bind(3, d.seq);
      if (st->step()) {
        docid = st->int64(0);
        indexed_author = st->text(1);
      }
    }
    std::optional<std::string> text;  // the message's words now, if it still has any
    std::string author;
    {
      auto st = c.prepare(
          "SELECT text, user_id FROM messages WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND deleted_at IS "
          "NULL");
      st->bind(1, d.app_id).bind(2, d.channel_id).bind(3, d.seq);
      if (st->step() && !st->text(0).empty()) {
        text = st->text(0);
        author = st->text(1);
      }
    }
    if (docid && !postgres_) {  // a contentless FTS5 row is taken out with the values it went in with
      auto st = c.prepare("INSERT INTO search_fts(search_fts, rowid, text, scope) VALUES('delete', $1, $2, $3)");
      st->bind(1, *docid).bind(2, d.old_text).bind(3, scope(d.app_id, d.channel_id, indexed_author)).run();
    }
    if (text && docid) {
      if (postgres_) {
        add_doc(c, d.app_id, d.channel_id, d.seq, author, *text);
      } else {
        auto st = c.prepare("INSERT INTO search_fts(rowid, text, scope) VALUES($1, $2, $3)");
        st->bind(1, *docid).bind(2, *text).bind(3, scope(d.app_id, d.channel_id, indexed_author)).run();
      }
    } else if (text) {
      // Not in the index: indexed already when it had no text (an attachment), or not yet (then
      // index_channel will take it, and this row is gone by then).
      auto st = c.prepare("SELECT indexed_seq FROM search_progress WHERE app_id = $1 AND channel_id = $2");
      st->bind(1, d.app_id).bind(2, d.channel_id);
      if (st->step() && st->int64(0) >= d.seq) add_doc(c, d.app_id, d.channel_id, d.seq, author, *text);
    } else if (docid) {
      auto st = c.prepare("DELETE FROM search_docs WHERE docid = $1");
      st->bind(1, *docid).run();
    }
    auto st = c.prepare("DELETE FROM search_dirty WHERE app_id = $1 AND channel_id = $2 AND seq = $3");
    st->bind(1, d.app_id).bind(2, d.channel_id).bind(3, d.seq).run();
  }
  return static_cast<std::int64_t>(rows.size());
}

}  // namespace parley::search
