#include "store/postgres/postgres_send_batch.hpp"

#include <algorithm>
#include <array>
#include <forward_list>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "store/chat_rows.hpp"
#include "store/postgres/pg_db.hpp"

namespace parley::store::postgres {

namespace {

constexpr auto kText = ArrayParam::Type::text;
constexpr auto kInt8 = ArrayParam::Type::int8;

// Keys are views of strings that outlive the batch's bookkeeping: the batch's own, the rows read,
// or copies the Reader keeps. They compare byte-wise, as the tables' COLLATE "C" keys do.
struct ChannelKey {
  std::string_view app, channel;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const ChannelKey&) const = default;
};
struct MemberKey {
  std::string_view app, channel, user;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  auto operator<=>(const MemberKey&) const = default;
};
struct CopyKey {
  std::string_view app, channel, user, client_msg_id;
  bool operator==(const CopyKey&) const = default;
};

struct KeyHash {
  static std::size_t mix(std::size_t h, std::string_view part) {
    return h ^ (std::hash<std::string_view>{}(part) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
  std::size_t operator()(const ChannelKey& k) const { return mix(mix(0, k.app), k.channel); }
  std::size_t operator()(const MemberKey& k) const { return mix(mix(mix(0, k.app), k.channel), k.user); }
  std::size_t operator()(const CopyKey& k) const {
    return mix(mix(mix(mix(0, k.app), k.channel), k.user), k.client_msg_id);
  }
};

template <class Key, class Value>
using HashMap = std::unordered_map<Key, Value, KeyHash>;

bool has_nul(const NewMessage& m) {
  auto nul = [](std::string_view s) { return s.find('\0') != std::string_view::npos; };
  return nul(m.text) || nul(m.attachments_json) || nul(m.mentions_json) || (m.client_msg_id && nul(*m.client_msg_id));
}

// Members fetched for the whole batch up front; anything else is read on demand.
class Reader final : public SendReader {
 public:
  explicit Reader(Connection& c) : c_(c) {}

  // The batch's members in one statement (sent in the batch's first pipeline flight): bind(),
  // then read() its rows once received. Keys without a row read as "not a member".
  static constexpr const char* kPrefetchSql = "SELECT " MEMBER_COLS(
      "m.") " FROM members m JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(app_id, channel_id, user_id) "
            "ON m.app_id = k.app_id AND m.channel_id = k.channel_id AND m.user_id = k.user_id";

  // Each send's sender and lookups in its channel. The keys are copied (the rules may change a
  // send): into one buffer, reserved up front so that the views into it stay valid.
  void bind_prefetch(Stmt& st, const std::vector<QueuedSend>& batch) {
    std::size_t bytes = 0;
    for (const auto& s : batch) {
      bytes += s.app_id.size() + s.channel_id.size() + s.message.user_id.size();
      for (const auto& u : s.lookups) bytes += s.app_id.size() + s.channel_id.size() + u.size();
    }
    keys_ = std::make_unique<char[]>(bytes);
    members_.reserve(batch.size());
    ArrayParam apps(kText), channels(kText), users(kText);
    auto want = [&](const std::string& a, const std::string& ch, const std::string& u) {
      if (members_.contains(MemberKey{a, ch, u})) return;
      MemberKey k{keep(a), keep(ch), keep(u)};
      members_.emplace(k, std::nullopt);
      apps.add(k.app);
      channels.add(k.channel);
      users.add(k.user);
    };
    for (const auto& s : batch) {
      want(s.app_id, s.channel_id, s.message.user_id);
      for (const auto& u : s.lookups) want(s.app_id, s.channel_id, u);
    }
    st.bind_array(1, apps).bind_array(2, channels).bind_array(3, users);
  }

  void read_prefetch(Stmt& st) {
    while (st.step()) {
      MemberRecord m = read_member(st);
      if (auto it = members_.find(MemberKey{m.app_id, m.channel_id, m.user_id}); it != members_.end()) {
        it->second = std::move(m);
      }
    }
  }

  Result<std::optional<MemberRecord>> member(const std::string& app_id, const std::string& channel_id,
                                             const std::string& user_id) override {
    auto it = members_.find(MemberKey{app_id, channel_id, user_id});
    if (it == members_.end()) {
      const auto& k = on_demand_.emplace_front(std::array<std::string, 3>{app_id, channel_id, user_id});
      it = members_.emplace(MemberKey{k[0], k[1], k[2]}, std::nullopt).first;
      auto st =
          c_.prepare("SELECT " MEMBER_COLS("") " FROM members WHERE app_id = $1 AND channel_id = $2 AND user_id = $3");
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id);
      if (st.step()) it->second = read_member(st);
    }
    return it->second;
  }

  Result<bool> blocked_either(const std::string& app_id, const std::string& a, const std::string& b) override {
    auto st = c_.prepare(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE app_id = $1 AND ((blocker = $2 AND blocked = $3) "
        "OR (blocker = $3 AND blocked = $2)))");
    st.bind(1, app_id).bind(2, a).bind(3, b);
    st.step();
    return st.boolean(0);
  }

 private:
  std::string_view keep(std::string_view v) {
    char* at = keys_.get() + used_;
    std::copy(v.begin(), v.end(), at);
    used_ += v.size();
    return {at, v.size()};
  }

  Connection& c_;
  std::unique_ptr<char[]> keys_;  // the prefetched keys' bytes, sized for them all
  std::size_t used_ = 0;
  std::forward_list<std::array<std::string, 3>> on_demand_;  // keys of members read on demand
  HashMap<MemberKey, std::optional<MemberRecord>> members_;
};

// The batch's channel rows, locked in (app, id) order so two batches never wait on each other
// in a cycle. FOR NO KEY UPDATE is the lock the seq UPDATE takes anyway.
constexpr const char* kLockChannelsSql = "SELECT " CHANNEL_COLS(
    "c.") " FROM channels c JOIN unnest($1::text[], $2::text[]) AS k(app_id, id) "
          "ON c.app_id = k.app_id AND c.id = k.id ORDER BY c.app_id, c.id FOR NO KEY UPDATE OF c";

// The batch's channels in (app, id) order, each send's index among them, and their rows once
// locked (none where the channel does not exist). The keys view the sends' strings: they serve
// until the rows are read, before any rule runs.
struct Channels {
  std::vector<ChannelKey> keys;
  std::vector<std::size_t> of_send;
  std::vector<std::optional<ChannelRecord>> rows;
};

Channels batch_channels(const std::vector<QueuedSend>& batch) {
  HashMap<ChannelKey, std::size_t> seen_at;
  std::vector<ChannelKey> seen;
  Channels out;
  out.of_send.reserve(batch.size());
  for (const auto& s : batch) {
    auto [it, fresh] = seen_at.try_emplace(ChannelKey{s.app_id, s.channel_id}, seen.size());
    if (fresh) seen.push_back(it->first);
    out.of_send.push_back(it->second);
  }
  std::vector<std::size_t> sorted(seen.size());
  std::iota(sorted.begin(), sorted.end(), std::size_t{0});
  std::sort(sorted.begin(), sorted.end(), [&](std::size_t a, std::size_t b) { return seen[a] < seen[b]; });
  std::vector<std::size_t> rank(seen.size());
  for (std::size_t r = 0; r < sorted.size(); ++r) {
    rank[sorted[r]] = r;
    out.keys.push_back(seen[sorted[r]]);
  }
  for (auto& c : out.of_send) c = rank[c];
  out.rows.resize(out.keys.size());
  return out;
}

void bind_lock_channels(Stmt& st, const Channels& channels) {
  ArrayParam apps(kText), ids(kText);
  for (const auto& k : channels.keys) {
    apps.add(k.app);
    ids.add(k.channel);
  }
  st.bind_array(1, apps).bind_array(2, ids);
}

void read_channels(Stmt& st, Channels& channels) {
  while (st.step()) {
    ChannelRecord ch = read_channel(st);
    auto it = std::lower_bound(channels.keys.begin(), channels.keys.end(), ChannelKey{ch.app_id, ch.id});
    if (it != channels.keys.end() && *it == ChannelKey{ch.app_id, ch.id}) {
      channels.rows[static_cast<std::size_t>(it - channels.keys.begin())] = std::move(ch);
    }
  }
}

// Messages stored earlier under the client_msg_ids of the batch (idempotent retries). Runs under
// the channel locks: a copy committed by another process before them is visible here.
constexpr const char* kStoredCopiesSql = "SELECT " MESSAGE_COLS(
    "m.") " FROM messages m JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
          "AS k(app_id, channel_id, user_id, client_msg_id) ON m.app_id = k.app_id AND m.channel_id = k.channel_id "
          "AND m.user_id = k.user_id AND m.client_msg_id = k.client_msg_id WHERE m.client_msg_id IS NOT NULL";

// False when no send of the batch has a client_msg_id (nothing to look up).
bool bind_stored_copies(Stmt& st, const std::vector<QueuedSend>& batch) {
  ArrayParam apps(kText), channels(kText), users(kText), ids(kText);
  bool any = false;
  for (const auto& s : batch) {
    if (!s.message.client_msg_id || has_nul(s.message)) continue;
    apps.add(s.app_id);
    channels.add(s.channel_id);
    users.add(s.message.user_id);
    ids.add(*s.message.client_msg_id);
    any = true;
  }
  if (any) st.bind_array(1, apps).bind_array(2, channels).bind_array(3, users).bind_array(4, ids);
  return any;
}

// The copies found, indexed by their keys (views of the records, which the vector never moves
// once read).
struct Copies {
  std::vector<MessageRecord> rows;
  HashMap<CopyKey, std::size_t> index;
};

Copies read_copies(Stmt& st) {
  Copies out;
  while (st.step()) out.rows.push_back(read_message(st));
  for (std::size_t i = 0; i < out.rows.size(); ++i) {
    const MessageRecord& m = out.rows[i];
    out.index.emplace(CopyKey{m.app_id, m.channel_id, m.user_id, *m.client_msg_id}, i);
  }
  return out;
}

// Counts the reply on its parent; nullopt when the parent cannot take replies.
std::optional<MessageRecord> add_reply(Connection& c, const QueuedSend& s) {
  const NewMessage& msg = s.message;
  auto st = c.prepare(
      "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = $4, thread_participants = "
      "CASE WHEN thread_participants::jsonb @> jsonb_build_array($5::text) "
      "OR jsonb_array_length(thread_participants::jsonb) >= 10 THEN thread_participants "
      "ELSE (thread_participants::jsonb || jsonb_build_array($5::text))::text END "
      "WHERE app_id = $1 AND channel_id = $2 AND seq = $3 AND parent_seq IS NULL AND deleted_at IS NULL "
      "RETURNING " MESSAGE_COLS(""));
  st.bind(1, s.app_id).bind(2, s.channel_id).bind(3, *msg.parent_seq).bind(4, msg.created_at).bind(5, msg.user_id);
  if (!st.step()) return std::nullopt;
  return read_message(st);
}

// Gives each channel's accepted sends (in batch order) the seqs after its last_seq, as read
// under the row lock this transaction holds; write_rows moves last_seq past them.
void assign_seqs(std::vector<QueuedSend>& batch, const Channels& channels,
                 const std::vector<std::vector<std::size_t>>& accepted) {
  for (std::size_t c = 0; c < accepted.size(); ++c) {
    std::int64_t seq = accepted[c].empty() ? 0 : channels.rows[c]->last_seq;
    for (auto i : accepted[c]) batch[i].result->message.seq = ++seq;
  }
}

// Each member's highest seq, in key order (the order the member rows are updated in).
using MemberSeqs = std::vector<std::pair<MemberKey, std::int64_t>>;

MemberSeqs highest_per_member(MemberSeqs all) {
  std::sort(all.begin(), all.end());
  MemberSeqs out;
  for (const auto& e : all) {
    if (!out.empty() && out.back().first == e.first) {
      out.back().second = e.second;  // sorted by seq within a key: the last is the highest
    } else {
      out.push_back(e);
    }
  }
  return out;
}

std::array<ArrayParam, 4> member_arrays(const MemberSeqs& to) {
  std::array<ArrayParam, 4> a{ArrayParam(kText), ArrayParam(kText), ArrayParam(kText), ArrayParam(kInt8)};
  for (const auto& [k, seq] : to) {
    a[0].add(k.app);
    a[1].add(k.channel);
    a[2].add(k.user);
    a[3].add(seq);
  }
  return a;
}

// One statement moves every channel's last_seq with UPDATE … RETURNING (checked against the
// seqs handed out), inserts the messages and moves the senders' read positions; mention flags
// follow in their own statements (they may touch a sender's member row again). They and the
// COMMIT go out in one pipeline flight.
void write_rows_and_commit(Connection& c, std::vector<QueuedSend>& batch, const Channels& channels,
                           const std::vector<std::vector<std::size_t>>& accepted,
                           const std::vector<std::size_t>& order) {
  if (order.empty()) {
    c.exec("COMMIT");
    return;
  }
  ArrayParam c_apps(kText), c_ids(kText), c_counts(kInt8), c_ats(kInt8), c_expect(kInt8);
  for (std::size_t ci = 0; ci < accepted.size(); ++ci) {
    const auto& idx = accepted[ci];
    if (idx.empty()) continue;
    const ChannelRecord& ch = *channels.rows[ci];
    c_apps.add(ch.app_id);
    c_ids.add(ch.id);
    c_counts.add(static_cast<std::int64_t>(idx.size()));
    c_expect.add(ch.last_seq + static_cast<std::int64_t>(idx.size()));
    TimeMs at = 0;
    for (auto i : idx) at = std::max(at, batch[i].message.created_at);
    c_ats.add(at);
  }
  ArrayParam apps(kText), chans(kText), seqs(kInt8), users(kText), texts(kText), attachments(kText), mentions(kText);
  ArrayParam parents(kInt8), client_ids(kText), ats(kInt8);
  ArrayParam f_apps(kText), f_users(kText), f_channels(kText), f_seqs(kInt8), f_ats(kInt8);
  MemberSeqs read_to, mention_to;
  read_to.reserve(order.size());
  for (auto i : order) {
    const QueuedSend& s = batch[i];
    const MessageRecord& m = s.result->message;
    apps.add(s.app_id);
    chans.add(s.channel_id);
    seqs.add(m.seq);
    users.add(m.user_id);
    texts.add(m.text);
    attachments.add(m.attachments_json);
    mentions.add(m.mentions_json);
    parents.add(m.parent_seq);
    client_ids.add(m.client_msg_id);
    ats.add(m.created_at);
    read_to.emplace_back(MemberKey{s.app_id, s.channel_id, m.user_id}, m.seq);
    for (const auto& who : s.message.mentions) {
      f_apps.add(s.app_id);
      f_users.add(who);
      f_channels.add(s.channel_id);
      f_seqs.add(m.seq);
      f_ats.add(m.created_at);
      mention_to.emplace_back(MemberKey{s.app_id, s.channel_id, who}, m.seq);
    }
  }
  auto r = member_arrays(highest_per_member(std::move(read_to)));
  // The seqs handed out must be exactly where each channel's last_seq lands (the row lock held
  // since lock_channels guarantees it). The check is in the statement, so that a mismatch (a
  // bug) fails it — and the COMMIT queued behind it — rather than being found after the commit:
  // the cast of a non-number fails.
  auto rows = c.prepare(
      "WITH ch AS (UPDATE channels c SET last_seq = c.last_seq + k.n, last_message_at = k.at, activity_at = k.at "
      "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $19::bigint[]) AS k(app_id, id, n, at, expect) "
      "WHERE c.app_id = k.app_id AND c.id = k.id RETURNING c.app_id, c.id, c.last_seq, k.expect), "
      "ins AS (INSERT INTO messages(app_id, channel_id, seq, user_id, text, attachments, mentions, parent_seq, "
      "client_msg_id, created_at) SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[], $8::text[], "
      "$9::text[], $10::text[], $11::text[], $12::bigint[], $13::text[], $14::bigint[])), "
      "rd AS (UPDATE members m SET last_read_seq = GREATEST(m.last_read_seq, k.seq) "
      "FROM unnest($15::text[], $16::text[], $17::text[], $18::bigint[]) AS k(app_id, channel_id, user_id, seq) "
      "WHERE m.app_id = k.app_id AND m.channel_id = k.channel_id AND m.user_id = k.user_id) "
      "SELECT CASE WHEN count(*) = cardinality($1::text[]) AND coalesce(bool_and(last_seq = expect), true) "
      "THEN count(*) ELSE ('send batch: channel seq moved under its row lock: ' || string_agg(id, ','))::bigint END "
      "FROM ch");
  rows.bind_array(1, c_apps).bind_array(2, c_ids).bind_array(3, c_counts).bind_array(4, c_ats);
  rows.bind_array(5, apps).bind_array(6, chans).bind_array(7, seqs).bind_array(8, users).bind_array(9, texts);
  rows.bind_array(10, attachments).bind_array(11, mentions).bind_array(12, parents).bind_array(13, client_ids);
  rows.bind_array(14, ats);
  rows.bind_array(15, r[0]).bind_array(16, r[1]).bind_array(17, r[2]).bind_array(18, r[3]).bind_array(19, c_expect);
  std::optional<Stmt> flags, mentioned;
  if (!mention_to.empty()) {
    flags.emplace(c.prepare(
        "INSERT INTO message_flags(app_id, user_id, channel_id, seq, flags, created_at) "
        "SELECT a, u, ch, s, 1, t FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) "
        "AS k(a, u, ch, s, t) ON CONFLICT (app_id, user_id, channel_id, seq) "
        "DO UPDATE SET flags = message_flags.flags | 1"));
    flags->bind_array(1, f_apps).bind_array(2, f_users).bind_array(3, f_channels).bind_array(4, f_seqs);
    flags->bind_array(5, f_ats);
    auto m = member_arrays(highest_per_member(std::move(mention_to)));
    mentioned.emplace(c.prepare(
        "UPDATE members m SET last_mention_seq = GREATEST(m.last_mention_seq, k.seq) "
        "FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS k(app_id, channel_id, user_id, seq) "
        "WHERE m.app_id = k.app_id AND m.channel_id = k.channel_id AND m.user_id = k.user_id"));
    mentioned->bind_array(1, m[0]).bind_array(2, m[1]).bind_array(3, m[2]).bind_array(4, m[3]);
  }
  std::optional<Stmt> outbox;
  if (auto pending = outbox_rows(batch, now_ms()); !pending.empty()) {
    ArrayParam o_apps(kText), o_chans(kText), o_first(kInt8), o_last(kInt8), o_ats(kInt8);
    for (const auto& row : pending) {
      o_apps.add(row.app_id);
      o_chans.add(row.channel_id);
      o_first.add(row.first_seq);
      o_last.add(row.last_seq);
      o_ats.add(row.created_at);
    }
    outbox.emplace(
        c.prepare("INSERT INTO event_outbox(app_id, channel_id, first_seq, last_seq, created_at) "
                  "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])"));
    outbox->bind_array(1, o_apps).bind_array(2, o_chans).bind_array(3, o_first).bind_array(4, o_last);
    outbox->bind_array(5, o_ats);
  }
  Pipeline flight(c);
  flight.send(rows);
  if (flags) flight.send(*flags);
  if (mentioned) flight.send(*mentioned);
  if (outbox) flight.send(*outbox);
  flight.send("COMMIT");
  flight.sync();
  flight.receive(rows);
  auto channels_written = std::count_if(accepted.begin(), accepted.end(), [](const auto& a) { return !a.empty(); });
  if (!rows.step() || rows.int64(0) != static_cast<std::int64_t>(channels_written)) {
    throw PgError("", false, "send batch: unexpected channel count");  // the statement checked it
  }
  if (flags) flight.receive(*flags);
  if (mentioned) flight.receive(*mentioned);
  if (outbox) flight.receive(*outbox);
  flight.receive("COMMIT");
}

MessageRecord unsaved(const QueuedSend& s) {
  MessageRecord m;
  m.app_id = s.app_id;
  m.channel_id = s.channel_id;
  m.user_id = s.message.user_id;
  m.text = s.message.text;
  m.attachments_json = s.message.attachments_json;
  m.mentions_json = s.message.mentions_json;
  m.parent_seq = s.message.parent_seq;
  m.client_msg_id = s.message.client_msg_id;
  m.created_at = s.message.created_at;
  return m;
}

// The batch's planner settings, sent with its BEGIN. Each array statement touches a few rows per
// key: index lookups, whatever the planner's guess of an unnest()'s size (a cached generic plan
// made while the tables were small would otherwise keep hashing whole tables).
constexpr const char* kBatchSettingsSql =
    "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), "
    "set_config('enable_mergejoin', 'off', true)";

// Rolls the batch's transaction back unless it committed; BEGIN and COMMIT themselves travel in
// the batch's pipeline flights.
class RollbackUnlessCommitted {
 public:
  explicit RollbackUnlessCommitted(Connection& c) : c_(c) {}
  RollbackUnlessCommitted(const RollbackUnlessCommitted&) = delete;
  RollbackUnlessCommitted& operator=(const RollbackUnlessCommitted&) = delete;
  ~RollbackUnlessCommitted() {
    if (!committed_) {
      try {
        c_.exec("ROLLBACK");
      } catch (...) {  // NOLINT(bugprone-empty-catch): the caller reports the original error
      }
    }
  }
  void committed() { committed_ = true; }

 private:
  Connection& c_;
  bool committed_ = false;
};

// The batch in two round trips (plus any reads a rule asks for beyond the prefetched members,
// and one per reply): the first flight begins, locks the channels, reads the senders' and
// mentioned members and the earlier copies; the rules run; the second flight writes every row
// and commits.
void run_batch(Connection& c, std::vector<QueuedSend>& batch, const SendRule& rule, bool look_up_copies) {
  RollbackUnlessCommitted tx(c);
  Reader reader(c);
  Channels channels = batch_channels(batch);
  Copies copies;
  {
    auto locks = c.prepare(kLockChannelsSql);
    bind_lock_channels(locks, channels);
    auto members = c.prepare(Reader::kPrefetchSql);
    reader.bind_prefetch(members, batch);
    auto earlier = c.prepare(kStoredCopiesSql);
    bool any_ids = look_up_copies && bind_stored_copies(earlier, batch);
    Pipeline flight(c);
    flight.send("BEGIN");
    flight.send(kBatchSettingsSql);
    flight.send(locks);
    flight.send(members);
    if (any_ids) flight.send(earlier);
    flight.sync();
    flight.receive("BEGIN");
    flight.receive(kBatchSettingsSql);
    flight.receive(locks);
    read_channels(locks, channels);
    flight.receive(members);
    reader.read_prefetch(members);
    if (any_ids) {
      flight.receive(earlier);
      copies = read_copies(earlier);
    }
  }
  std::vector<std::vector<std::size_t>> accepted(channels.rows.size());  // per channel, in batch order
  std::vector<std::size_t> order;                                        // accepted sends in batch order
  HashMap<CopyKey, std::size_t> first_copy;                              // views of the accepted sends' own strings
  std::vector<std::pair<std::size_t, std::size_t>> repeats;              // (send, earlier send it repeats)
  for (std::size_t i = 0; i < batch.size(); ++i) {
    QueuedSend& s = batch[i];
    std::size_t ci = channels.of_send[i];
    if (!channels.rows[ci]) {
      s.result = not_found("channel");
      continue;
    }
    if (Status ok = rule(i, *channels.rows[ci], s, reader); !ok) {
      s.result = std::move(ok).error();
      continue;
    }
    if (has_nul(s.message)) {  // would fail the whole batch's insert
      s.result = Error{Errc::validation_failed, "text holds a character the database cannot store (NUL)"};
      continue;
    }
    std::optional<CopyKey> key;
    if (s.message.client_msg_id) {
      key = CopyKey{s.app_id, s.channel_id, s.message.user_id, *s.message.client_msg_id};
      if (auto it = copies.index.find(*key); it != copies.index.end()) {
        s.result = SendResult{copies.rows[it->second], true, std::nullopt};
        continue;
      }
      if (auto it = first_copy.find(*key); it != first_copy.end()) {
        repeats.emplace_back(i, it->second);
        continue;
      }
    }
    SendResult out;
    if (s.message.parent_seq) {
      out.parent = add_reply(c, s);
      if (!out.parent) {
        s.result = violates("parent_seq", "names no message of this channel that can take replies");
        continue;
      }
    }
    out.message = unsaved(s);
    s.result = std::move(out);
    accepted[ci].push_back(i);
    order.push_back(i);
    if (key) first_copy.emplace(*key, i);
  }
  if (!order.empty()) assign_seqs(batch, channels, accepted);
  write_rows_and_commit(c, batch, channels, accepted, order);
  tx.committed();
  for (auto [i, first] : repeats) {
    SendResult r = *batch[first].result;
    r.duplicate = true;
    r.parent.reset();
    batch[i].result = std::move(r);
  }
}

}  // namespace

bool CopyLookups::wanted() const {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
  return now.count() < until_.load(std::memory_order_relaxed);
}

void CopyLookups::conflict_seen() {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch());
  until_.store((now + window_).count(), std::memory_order_relaxed);
}

void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule, CopyLookups& lookups) {
  bool look_up = lookups.wanted();
  for (int attempt = 0;; ++attempt) {
    try {
      auto lease = pool.acquire();
      run_batch(*lease, batch, rule, look_up);
      return;
    } catch (const PgError& e) {
      if (e.sqlstate() == "23505" && !look_up) {  // an earlier copy (see CopyLookups): again, looking
        lookups.conflict_seen();
        look_up = true;
        continue;
      }
      if (e.retryable() && attempt < 2) continue;
      Error err = e.to_error();
      for (auto& s : batch) s.result = err;
      return;
    }
  }
}

}  // namespace parley::store::postgres
