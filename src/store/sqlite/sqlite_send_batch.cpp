#include "store/sqlite/sqlite_send_batch.hpp"

#include <string>
#include <unordered_map>

#include "store/sqlite/sqlite_chat_rows.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace parley::store::sqlite {

namespace {

std::string key_of(std::initializer_list<const std::string*> parts) {
  std::string k;
  for (const auto* p : parts) {
    k += *p;
    k.push_back('\n');
  }
  return k;
}

// Reads for the send rule, cached for the batch: nothing a send writes changes them.
class Reader final : public SendReader {
 public:
  explicit Reader(Connection& c) : c_(c) {}

  Result<std::optional<MemberRecord>> member(const std::string& app_id, const std::string& channel_id,
                                             const std::string& user_id) override {
    auto [it, fresh] = members_.try_emplace(key_of({&app_id, &channel_id, &user_id}));
    if (fresh) {
      auto st =
          c_.prepare("SELECT " MEMBER_COLS("") " FROM members WHERE app_id = ? AND channel_id = ? AND user_id = ?");
      st.bind(1, app_id).bind(2, channel_id).bind(3, user_id);
      if (st.step()) it->second = read_member(st);
    }
    return it->second;
  }

  Result<bool> blocked_either(const std::string& app_id, const std::string& a, const std::string& b) override {
    auto st = c_.prepare(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE app_id = ?1 AND ((blocker = ?2 AND blocked = ?3) "
        "OR (blocker = ?3 AND blocked = ?2)))");
    st.bind(1, app_id).bind(2, a).bind(3, b);
    st.step();
    return st.int64(0) != 0;
  }

  Result<ChannelRecord> channel(const std::string& app_id, const std::string& channel_id) {
    auto [it, fresh] = channels_.try_emplace(key_of({&app_id, &channel_id}));
    if (fresh) {
      auto st = c_.prepare("SELECT " CHANNEL_COLS("") " FROM channels WHERE app_id = ? AND id = ?");
      st.bind(1, app_id).bind(2, channel_id);
      it->second = st.step() ? Result<ChannelRecord>(read_channel(st)) : Result<ChannelRecord>(not_found("channel"));
    }
    return it->second;
  }

 private:
  Connection& c_;
  std::unordered_map<std::string, std::optional<MemberRecord>> members_;
  std::unordered_map<std::string, Result<ChannelRecord>> channels_;
};

// The writes of one accepted send, in the order that makes a refusal write nothing: the parent
// check first, then the seq, the row, mention flags, the sender's read position.
Result<SendResult> store_one(Connection& c, const std::string& app_id, const std::string& channel_id,
                             const NewMessage& msg) {
  SendResult out;
  if (msg.parent_seq) {
    auto st = c.prepare(
        "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?4, thread_participants = "
        "CASE WHEN EXISTS (SELECT 1 FROM json_each(thread_participants) WHERE value = ?5) "
        "OR json_array_length(thread_participants) >= 10 THEN thread_participants "
        "ELSE json_insert(thread_participants, '$[#]', ?5) END "
        "WHERE app_id = ?1 AND channel_id = ?2 AND seq = ?3 AND parent_seq IS NULL AND deleted_at IS NULL "
        "RETURNING " MESSAGE_COLS(""));
    st.bind(1, app_id).bind(2, channel_id).bind(3, *msg.parent_seq).bind(4, msg.created_at).bind(5, msg.user_id);
    if (!st.step()) return violates("parent_seq", "names no message of this channel that can take replies");
    out.parent = read_message(st);
    st.run();
  }
  std::int64_t seq = 0;
  {
    auto st = c.prepare(
        "UPDATE channels SET last_seq = last_seq + 1, last_message_at = ?3, activity_at = ?3 "
        "WHERE app_id = ?1 AND id = ?2 RETURNING last_seq");
    st.bind(1, app_id).bind(2, channel_id).bind(3, msg.created_at);
    if (!st.step()) return not_found("channel");
    seq = st.int64(0);
    st.run();
  }
  {
    auto st = c.prepare(
        "INSERT INTO messages(app_id, channel_id, seq, user_id, text, attachments, mentions, parent_seq, "
        "client_msg_id, created_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, app_id).bind(2, channel_id).bind(3, seq).bind(4, msg.user_id).bind(5, msg.text);
    st.bind(6, msg.attachments_json).bind(7, msg.mentions_json).bind(8, msg.parent_seq);
    st.bind(9, msg.client_msg_id).bind(10, msg.created_at).run();
  }
  for (const auto& who : msg.mentions) {
    auto st = c.prepare(
        "INSERT INTO message_flags(app_id, user_id, channel_id, seq, flags, created_at) VALUES(?, ?, ?, ?, 1, ?) "
        "ON CONFLICT DO UPDATE SET flags = flags | 1");
    st.bind(1, app_id).bind(2, who).bind(3, channel_id).bind(4, seq).bind(5, msg.created_at).run();
    auto mt = c.prepare(
        "UPDATE members SET last_mention_seq = max(last_mention_seq, ?4) "
        "WHERE app_id = ?1 AND channel_id = ?2 AND user_id = ?3");
    mt.bind(1, app_id).bind(2, channel_id).bind(3, who).bind(4, seq).run();
  }
  {
    auto st = c.prepare(
        "UPDATE members SET last_read_seq = max(last_read_seq, ?4) "
        "WHERE app_id = ?1 AND channel_id = ?2 AND user_id = ?3");
    st.bind(1, app_id).bind(2, channel_id).bind(3, msg.user_id).bind(4, seq).run();
  }
  MessageRecord& m = out.message;
  m.app_id = app_id;
  m.channel_id = channel_id;
  m.seq = seq;
  m.user_id = msg.user_id;
  m.text = msg.text;
  m.attachments_json = msg.attachments_json;
  m.mentions_json = msg.mentions_json;
  m.parent_seq = msg.parent_seq;
  m.client_msg_id = msg.client_msg_id;
  m.created_at = msg.created_at;
  return out;
}

// Runs store_one inside a savepoint: a refused send leaves nothing behind. Failures other than
// a constraint (busy, I/O) propagate and fail the whole batch.
Result<SendResult> store_in_savepoint(Connection& c, const QueuedSend& s) {
  c.prepare("SAVEPOINT send_one").run();
  Result<SendResult> r;
  try {
    r = store_one(c, s.app_id, s.channel_id, s.message);
  } catch (const SqliteError& e) {
    if (!e.constraint()) throw;
    r = to_error(e);
  }
  if (!r) c.prepare("ROLLBACK TO send_one").run();
  c.prepare("RELEASE send_one").run();
  return r;
}

}  // namespace

void send_batch(Pool& pool, std::vector<QueuedSend>& batch, const SendRule& rule) {
  Status whole = with_conn(pool, [&](Connection& c) -> Status {
    Transaction tx(c);
    Reader reader(c);
    std::unordered_map<std::string, std::size_t> stored;  // idempotency key -> index of its send
    for (std::size_t i = 0; i < batch.size(); ++i) {
      QueuedSend& s = batch[i];
      auto channel = reader.channel(s.app_id, s.channel_id);
      if (!channel) {
        s.result = channel.error();
        continue;
      }
      if (Status ok = rule(i, *channel, s, reader); !ok) {
        s.result = std::move(ok).error();
        continue;
      }
      std::string key;
      if (s.message.client_msg_id) {
        key = key_of({&s.app_id, &s.channel_id, &s.message.user_id, &*s.message.client_msg_id});
        if (auto it = stored.find(key); it != stored.end()) {
          SendResult first = *batch[it->second].result;
          first.duplicate = true;
          first.parent.reset();
          s.result = std::move(first);
          continue;
        }
        auto st = c.prepare("SELECT " MESSAGE_COLS(
            "") " FROM messages WHERE app_id = ? AND channel_id = ? AND user_id = ? AND client_msg_id = ?");
        st.bind(1, s.app_id).bind(2, s.channel_id).bind(3, s.message.user_id).bind(4, *s.message.client_msg_id);
        if (st.step()) {
          s.result = SendResult{read_message(st), true, std::nullopt};
          continue;
        }
      }
      s.result = store_in_savepoint(c, s);
      if (s.result && !key.empty()) stored.emplace(std::move(key), i);
    }
    tx.commit();
    return ok_status();
  });
  if (!whole) {
    for (auto& s : batch) s.result = whole.error();
  }
}

}  // namespace parley::store::sqlite
