#pragma once
// Storage of the chat model. Same rules as Store: thread-safe, blocking (database threads
// only), every query scoped by app id, errors as values. Permission checks belong to the
// chat service; the store enforces invariants: gap-free per-channel seqs (allocated in the
// sending transaction, so they hold across processes sharing a database), idempotent sends,
// member limits, O(1) writes per message whatever the member count.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/chat_types.hpp"

namespace parley::store {

/// One send of a group commit (ChatStore::send_batch): the request, then its outcome.
struct QueuedSend {
  std::string app_id;
  std::string channel_id;
  NewMessage message;  // the rule may fill mentions and mentions_json
  /// Users whose membership of the channel the rule will ask for; the store may fetch them
  /// for the whole batch at once.
  std::vector<std::string> lookups;
  /// The message has durable consumers (webhooks, link previews): the batch writes an outbox
  /// row for its channel in the same transaction (see outbox_rows).
  bool outbox = false;
  Result<SendResult> result;  // set by send_batch
};

/// A row of the send outbox (docs/jobs.md, "Outbox"): the new messages first_seq..last_seq of a
/// channel, stored by one send batch, whose consumers have not yet confirmed them.
struct OutboxRow {
  std::string app_id;
  std::string channel_id;
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  TimeMs created_at = 0;
};

/// The outbox rows a batch writes: per channel, the seqs of its stored (not duplicate) sends
/// flagged `outbox`, in the order the channels first appear. Both drivers write these, and the
/// chat service confirms the same rows, so neither derives them on its own.
std::vector<OutboxRow> outbox_rows(const std::vector<QueuedSend>& batch, TimeMs now);

/// What a send rule may read inside the group-commit transaction. Answers reflect that
/// transaction; the sends' channel rows are locked (PostgreSQL) or the writer lock is held
/// (SQLite), so they cannot change before the commit.
class SendReader {
 public:
  virtual ~SendReader() = default;
  virtual Result<std::optional<MemberRecord>> member(const std::string& app_id, const std::string& channel_id,
                                                     const std::string& user_id) = 0;
  virtual Result<bool> blocked_either(const std::string& app_id, const std::string& a, const std::string& b) = 0;
};

/// Decides whether send `index` of a batch may be stored, given its channel (not deleted-checked:
/// the rule decides). An error fails that send alone; the rule may fill the message's mentions.
using SendRule =
    std::function<Status(std::size_t index, const ChannelRecord& channel, QueuedSend& send, SendReader& reader)>;

/// What a guarded write's permission rule judges, read inside that write's own transaction.
struct Standing {
  ChannelRecord channel;
  std::optional<MemberRecord> actor;     // the acting user's membership
  std::optional<MemberRecord> subject;   // the membership the write changes, for member writes
  std::optional<MessageRecord> message;  // the message the write changes, for message writes
};

/// A permission check a write runs in its transaction: `rule` (chat/permissions) gets the
/// Standing of `actor_id` and decides; its error is the write's, and nothing is written.
struct Guard {
  std::string actor_id;
  std::function<Status(const Standing&)> rule;
};

class ChatStore {
 public:
  virtual ~ChatStore() = default;

  // Channels.
  /// Inserts the channel and its first members; conflict when a DM for the pair exists.
  virtual Result<ChannelRecord> create_channel(const ChannelRecord& channel,
                                               const std::vector<MemberRecord>& members) = 0;
  virtual Result<ChannelRecord> get_channel(const std::string& app_id, const std::string& channel_id) = 0;
  virtual Result<std::optional<ChannelRecord>> find_dm(const std::string& app_id, const std::string& dm_key) = 0;
  /// Saves name, topic, image, custom, archived_at, deleted_at; stamps a new version.
  virtual Result<ChannelRecord> update_channel(const ChannelRecord& channel) = 0;
  /// A member's channels (not deleted), most recent activity first.
  virtual Result<std::vector<ChannelView>> list_member_channels(const std::string& app_id, const std::string& user_id,
                                                                const std::optional<ChannelType>& type,
                                                                bool include_hidden,
                                                                const std::optional<ActivityCursor>& after,
                                                                int limit) = 0;
  virtual Result<UnreadTotals> unread_totals(const std::string& app_id, const std::string& user_id) = 0;
  /// Public channels by lower-case name, after (name_lower, id).
  virtual Result<std::vector<ChannelRecord>> list_public_channels(
      const std::string& app_id, const std::string& name_prefix,
      const std::optional<std::pair<std::string, std::string>>& after, int limit) = 0;
  /// One channel as a member sees it (membership may be absent for public readers).
  virtual Result<ChannelView> channel_view(const std::string& app_id, const std::string& channel_id,
                                           const std::string& user_id) = 0;

  /// Ids of the (not deleted) channels a user is a member of: what a realtime connection hears.
  virtual Result<std::vector<std::string>> member_channel_ids(const std::string& app_id,
                                                              const std::string& user_id) = 0;

  // Members.
  virtual Result<std::optional<MemberRecord>> get_member(const std::string& app_id, const std::string& channel_id,
                                                         const std::string& user_id) = 0;
  virtual Result<std::vector<MemberRecord>> list_members(const std::string& app_id, const std::string& channel_id,
                                                         const std::string& after_user_id, int limit) = 0;
  /// Adds the members not already in; validation_failed past max_members. Returns who was added.
  virtual Result<std::vector<std::string>> add_members(const std::string& app_id, const std::string& channel_id,
                                                       const std::vector<MemberRecord>& members,
                                                       std::int64_t max_members) = 0;
  virtual Status remove_member(const std::string& app_id, const std::string& channel_id,
                               const std::string& user_id) = 0;
  /// Saves role, muted, starred, hidden.
  virtual Result<MemberRecord> update_member(const MemberRecord& member) = 0;
  /// Moves last_read_seq forward to min(seq, last_seq) (never back); returns the member.
  virtual Result<MemberRecord> mark_read(const std::string& app_id, const std::string& channel_id,
                                         const std::string& user_id, std::int64_t seq) = 0;
  virtual Result<std::int64_t> unread_count(const std::string& app_id, const std::string& channel_id,
                                            std::int64_t after_seq) = 0;
  /// Members other than `except_user` whose last-read seq reaches `seq`.
  virtual Result<std::vector<std::string>> seen_by(const std::string& app_id, const std::string& channel_id,
                                                   std::int64_t seq, const std::string& except_user) = 0;

  // Guarded writes: the write of the plain method of the same name, done only if `guard.rule`
  // approves the Standing read in the same transaction after the write's locks (the app row
  // where the write takes it, then the channel row). Every change a rule depends on (channel
  // state, memberships, roles) locks that channel row too, so none can slip in between the
  // check and the write; without a channel row the write fails with not_found("channel").
  /// Applies `change` to the channel as read in the transaction, then saves it as update_channel.
  virtual Result<ChannelRecord> update_channel_checked(const Guard& guard, const std::string& app_id,
                                                       const std::string& channel_id,
                                                       const std::function<void(ChannelRecord&)>& change) = 0;
  virtual Result<std::vector<std::string>> add_members_checked(const Guard& guard, const std::string& app_id,
                                                               const std::string& channel_id,
                                                               const std::vector<MemberRecord>& members,
                                                               std::int64_t max_members) = 0;
  /// The subject is `user_id`.
  virtual Status remove_member_checked(const Guard& guard, const std::string& app_id, const std::string& channel_id,
                                       const std::string& user_id) = 0;
  /// Applies `change` to the membership of `user_id` (the subject) as read in the transaction,
  /// then saves it as update_member; not_found("member") without one.
  virtual Result<MemberRecord> update_member_checked(const Guard& guard, const std::string& app_id,
                                                     const std::string& channel_id, const std::string& user_id,
                                                     const std::function<void(MemberRecord&)>& change) = 0;
  /// Message writes: the Standing's message is the one at `seq`, if any.
  virtual Result<MessageRecord> edit_message_checked(const Guard& guard, const std::string& app_id,
                                                     const std::string& channel_id, std::int64_t seq,
                                                     const std::string& text,
                                                     const std::optional<std::string>& attachments_json, TimeMs at) = 0;
  /// A tombstone, as delete_message without purge.
  virtual Result<MessageRecord> delete_message_checked(const Guard& guard, const std::string& app_id,
                                                       const std::string& channel_id, std::int64_t seq, TimeMs at) = 0;
  virtual Result<MessageRecord> set_reaction_checked(const Guard& guard, const std::string& app_id,
                                                     const std::string& channel_id, std::int64_t seq,
                                                     const std::string& user_id, const std::string& type, bool on,
                                                     TimeMs at) = 0;
  virtual Result<MessageRecord> set_pinned_checked(const Guard& guard, const std::string& app_id,
                                                   const std::string& channel_id, std::int64_t seq,
                                                   std::optional<TimeMs> at, int max_pins) = 0;

  // Messages.
  /// Group commit: stores every send `rule` accepts in ONE transaction and sets each send's
  /// result, in order. Seqs come from the channel rows inside that transaction (gap-free, also
  /// across processes); an idempotent retry (same app, channel, user, client_msg_id as a
  /// stored message or as an earlier send of the batch) gets the original with duplicate =
  /// true. A send the rule or the store refuses (no channel, bad parent, …) fails alone; a
  /// database failure fails the whole batch (nothing of it is stored). Results are final only
  /// when this returns, i.e. after the commit. One caller at a time per store is enough; the
  /// store is thread-safe anyway.
  virtual void send_batch(std::vector<QueuedSend>& batch, const SendRule& rule) = 0;
  virtual Result<MessageRecord> get_message(const std::string& app_id, const std::string& channel_id,
                                            std::int64_t seq) = 0;
  /// Deletes outbox rows (by app, channel, first_seq) in one transaction; absent ones are fine.
  virtual Status delete_outbox(const std::vector<OutboxRow>& rows) = 0;
  /// Outbox rows written before `before`, oldest first.
  virtual Result<std::vector<OutboxRow>> stale_outbox(TimeMs before, int limit) = 0;
  /// Ascending seqs after `after_seq`, or the ones just before `before_seq` (still ascending).
  virtual Result<std::vector<MessageRecord>> list_messages(const std::string& app_id, const std::string& channel_id,
                                                           std::optional<std::int64_t> after_seq,
                                                           std::optional<std::int64_t> before_seq, int limit) = 0;
  virtual Result<std::vector<MessageRecord>> list_replies(const std::string& app_id, const std::string& channel_id,
                                                          std::int64_t parent_seq, std::int64_t after_seq,
                                                          int limit) = 0;
  virtual Result<MessageRecord> edit_message(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                             const std::string& text,
                                             const std::optional<std::string>& attachments_json, TimeMs at) = 0;
  /// Tombstones the message (text and attachments emptied); idempotent. `purge` also erases
  /// its mentions, reactions and flags.
  virtual Result<MessageRecord> delete_message(const std::string& app_id, const std::string& channel_id,
                                               std::int64_t seq, TimeMs at, bool purge) = 0;
  /// Replaces the message's link previews with `previews_json` (a JSON array), unless it was
  /// deleted, edited since (its edited_at is no longer `edited_at`) or already holds exactly
  /// these. Returns the message when it changed, nullopt when it did not.
  virtual Result<std::optional<MessageRecord>> set_link_previews(const std::string& app_id,
                                                                 const std::string& channel_id, std::int64_t seq,
                                                                 std::optional<TimeMs> edited_at,
                                                                 const std::string& previews_json) = 0;
  /// Adds or removes one reaction and recounts the message's reactions.
  virtual Result<MessageRecord> set_reaction(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                             const std::string& user_id, const std::string& type, bool on,
                                             TimeMs at) = 0;
  /// (seq, type) of `user_id`'s reactions on seqs in [lo, hi].
  virtual Result<std::vector<std::pair<std::int64_t, std::string>>> own_reactions(const std::string& app_id,
                                                                                  const std::string& channel_id,
                                                                                  const std::string& user_id,
                                                                                  std::int64_t lo, std::int64_t hi) = 0;
  /// Pins (at) or unpins (nullopt); validation_failed past max_pins.
  virtual Result<MessageRecord> set_pinned(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                           std::optional<TimeMs> at, int max_pins) = 0;
  virtual Result<std::vector<MessageRecord>> list_pinned(const std::string& app_id, const std::string& channel_id) = 0;

  // Per-user flags.
  virtual Status set_flag(const std::string& app_id, const std::string& user_id, const std::string& channel_id,
                          std::int64_t seq, MessageFlag flag, bool on, TimeMs at) = 0;
  /// Flagged messages, newest flag first, strictly after `after` in that order. With
  /// unread_only, only those after the member's last-read seq.
  virtual Result<std::vector<FlaggedMessage>> list_flagged(const std::string& app_id, const std::string& user_id,
                                                           MessageFlag flag, bool unread_only,
                                                           const std::optional<FlagCursor>& after, int limit) = 0;

  // Blocks.
  virtual Status set_block(const std::string& app_id, const std::string& blocker, const std::string& blocked, bool on,
                           TimeMs at) = 0;
  virtual Result<std::vector<std::pair<std::string, TimeMs>>> list_blocks(const std::string& app_id,
                                                                          const std::string& blocker) = 0;
  /// True when either user blocked the other.
  virtual Result<bool> blocked_either(const std::string& app_id, const std::string& a, const std::string& b) = 0;

  // Sync.
  virtual Result<ChannelChanges> channel_changes(const std::string& app_id, const std::string& user_id,
                                                 std::optional<std::int64_t> since) = 0;
};

}  // namespace parley::store
