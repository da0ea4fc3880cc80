#pragma once
// Channels, members, messages, threads, reactions, mentions, read state, pins, saved
// messages, blocks and sync, with the permission rules of docs/api.md (chat/permissions.hpp).
// Every call acts as one user of one app and is scoped to that app. Thread-safe; calls block
// on the store, so run them on a database thread — except send_async, which only queues.
//
// The service orchestrates: it reads, asks the rules, writes through the store and publishes
// the events (chat/event_builder.hpp). Sends go through the group commit (send_commit.cpp).
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "chat/events.hpp"
#include "chat/group_commit.hpp"
#include "chat/mentions.hpp"
#include "chat/permissions.hpp"
#include "core/thread_annotations.hpp"
#include "store/store.hpp"
#include "tenancy/tenancy_service.hpp"

namespace parley::chat {

/// The user a call acts as.
struct Caller {
  tenancy::AppPtr app;
  std::string user_id;
  const std::string& app_id() const { return app->id; }
};

struct NewChannel {
  store::ChannelType type = store::ChannelType::group;  // group or public (a DM: ensure_dm)
  std::string name;
  std::string topic;
  std::string image_url;
  std::string custom_json = "{}";
  std::vector<std::string> members;
};

struct ChannelPatch {
  std::optional<std::string> name;
  std::optional<std::string> topic;
  std::optional<std::string> image_url;
  std::optional<std::string> custom_json;
};

struct MembershipPatch {
  std::optional<bool> muted;
  std::optional<bool> starred;
  std::optional<bool> hidden;
};

struct OutgoingMessage {
  std::string text;
  std::string attachments_json = "[]";
  std::size_t attachment_count = 0;
  std::optional<std::int64_t> parent_seq;
  std::optional<std::string> client_msg_id;
  std::vector<std::string> mentions;  // explicit list; @user_id in text is added
};

struct MessagePage {
  std::vector<store::MessageRecord> items;
  bool has_more = false;
  std::map<std::int64_t, std::vector<std::string>> own_reactions;  // by seq
};

struct SyncRequest {
  std::map<std::string, std::int64_t> channels;  // channel id -> last seq the client has
  std::optional<std::int64_t> since;
  int limit_per_channel = 100;
};

struct SyncResult {
  std::map<std::string, MessagePage> channels;
  store::ChannelChanges changes;
};

/// Called once with a send's outcome, after the transaction holding it committed (or failed).
/// Runs on the committer thread: hand the result over (post it) and return at once.
using SendCallback = std::function<void(Result<store::SendResult>)>;

constexpr int kMaxPins = 50;

class ChatService {
 public:
  /// Starts the send committers (a thread each; see group_commit.hpp and "Group commit" in
  /// docs/architecture.md).
  explicit ChatService(store::Store& store, GroupCommitOptions sends = {});
  ~ChatService();
  ChatService(const ChatService&) = delete;
  ChatService& operator=(const ChatService&) = delete;
  /// Where events go after each committed change; set once at start-up, before serving.
  void set_event_sink(EventSink* sink) { events_ = sink; }
  /// The check sends pass before their commit (chat/send_gate.hpp); set once at start-up.
  void set_send_gate(class SendGate* gate) { gate_ = gate; }
  /// The outbox of sends (chat/outbox.hpp); set once at start-up. Without one, message events
  /// reach their consumers only from the bus, after the commit (a crash in between loses them).
  void set_outbox(class Outbox* outbox) { outbox_ = outbox; }
  /// Announces a change of a user (user_updated, user_deactivated, user_reactivated) to the
  /// user's own connections and the app's webhooks; `user` is the user as the API shows it.
  void announce_user(bus::EventType type, const std::string& app_id, const std::string& user_id,
                     boost::json::object user);
  /// Publishes again, to the durable consumers only, the messages of outbox rows their node did
  /// not confirm in time (Outbox::stale); returns how many rows. Blocks on the database.
  Result<int> replay_outbox(TimeMs now, int limit);

  Result<store::ChannelView> create_channel(const Caller& who, const NewChannel& spec);
  /// The DM of the caller and `other`, created on first call. Second: whether it was created.
  Result<std::pair<store::ChannelView, bool>> ensure_dm(const Caller& who, const std::string& other);
  Result<std::vector<store::ChannelView>> list_channels(const Caller& who,
                                                        const std::optional<store::ChannelType>& type,
                                                        bool include_hidden,
                                                        const std::optional<store::ActivityCursor>& after, int limit);
  Result<std::vector<store::ChannelRecord>> list_public(const Caller& who, const std::string& prefix,
                                                        const std::optional<std::pair<std::string, std::string>>& after,
                                                        int limit);
  Result<store::UnreadTotals> unread(const Caller& who);
  Result<store::ChannelView> get_channel(const Caller& who, const std::string& channel_id);
  Result<store::ChannelView> update_channel(const Caller& who, const std::string& channel_id,
                                            const ChannelPatch& patch);
  Result<store::ChannelView> set_archived(const Caller& who, const std::string& channel_id, bool archived);
  Status delete_channel(const Caller& who, const std::string& channel_id);

  Result<std::vector<store::MemberRecord>> list_members(const Caller& who, const std::string& channel_id,
                                                        const std::string& after_user_id, int limit);
  Result<std::vector<std::string>> add_members(const Caller& who, const std::string& channel_id,
                                               const std::vector<std::string>& user_ids, store::Role role);
  Status remove_member(const Caller& who, const std::string& channel_id, const std::string& user_id);
  Result<store::MemberRecord> set_role(const Caller& who, const std::string& channel_id, const std::string& user_id,
                                       store::Role role);
  Result<store::MemberRecord> join(const Caller& who, const std::string& channel_id);
  Status leave(const Caller& who, const std::string& channel_id);
  Result<store::MemberRecord> update_membership(const Caller& who, const std::string& channel_id,
                                                const MembershipPatch& patch);

  /// Queues a send for the next group commit and returns at once; `done` gets the outcome after
  /// that transaction committed (the message.new event is published before). Any thread.
  void send_async(const Caller& who, const std::string& channel_id, OutgoingMessage msg, SendCallback done);
  /// send_async, waiting for the outcome. Blocks: not on a network thread.
  Result<store::SendResult> send(const Caller& who, const std::string& channel_id, OutgoingMessage msg);
  /// Commits the queued sends and stops the committer; later sends fail with `unavailable`.
  /// Call before the event sink goes away. Idempotent.
  void stop_sends();
  GroupCommitStats send_stats() const;
  Result<MessagePage> history(const Caller& who, const std::string& channel_id, std::optional<std::int64_t> after,
                              std::optional<std::int64_t> before, int limit);
  Result<MessagePage> get_message(const Caller& who, const std::string& channel_id, std::int64_t seq);
  Result<MessagePage> edit(const Caller& who, const std::string& channel_id, std::int64_t seq, const std::string& text,
                           const std::optional<std::string>& attachments_json);
  Status delete_message(const Caller& who, const std::string& channel_id, std::int64_t seq);
  /// The preview job (src/previews/): replaces the message's link previews and announces it with
  /// message.updated — unless it was deleted or edited since `edited_at`, or already had them.
  Status attach_link_previews(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                              std::optional<TimeMs> edited_at, const std::string& previews_json);
  /// App credentials: erases a message's content for good.
  Status purge(const std::string& app_id, const std::string& channel_id, std::int64_t seq);
  Result<MessagePage> replies(const Caller& who, const std::string& channel_id, std::int64_t parent_seq,
                              std::int64_t after, int limit);
  Result<MessagePage> react(const Caller& who, const std::string& channel_id, std::int64_t seq, const std::string& type,
                            bool on);
  Result<std::vector<std::string>> seen_by(const Caller& who, const std::string& channel_id, std::int64_t seq);
  /// Returns the new last-read seq and the channel's unread count after it.
  Result<std::pair<std::int64_t, std::int64_t>> mark_read(const Caller& who, const std::string& channel_id,
                                                          std::optional<std::int64_t> seq);

  Status pin(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on);
  Result<MessagePage> pins(const Caller& who, const std::string& channel_id);
  Status save(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on);
  Result<std::vector<store::FlaggedMessage>> flagged(const Caller& who, store::MessageFlag flag, bool unread_only,
                                                     const std::optional<store::FlagCursor>& after, int limit);

  Status block(const Caller& who, const std::string& user_id, bool on);
  Result<std::vector<std::pair<std::string, TimeMs>>> blocks(const Caller& who);

  Result<SyncResult> sync(const Caller& who, const SyncRequest& req);

  /// The ids of the channels the caller is a member of (what a realtime session hears).
  Result<std::vector<std::string>> member_channel_ids(const Caller& who);
  /// The caller's membership of a channel; nullopt when not a member (or no such channel).
  Result<std::optional<store::MemberRecord>> membership(const Caller& who, const std::string& channel_id);

 private:
  struct PendingSend;
  struct CommittedBatch;
  void queue_send(const Caller& who, const std::string& channel_id, OutgoingMessage msg, SendCallback done);
  void commit_sends(std::vector<PendingSend>& batch, GroupCommitter<CommittedBatch>& publisher);
  void publish_sends(CommittedBatch& done);
  Status check_send(PendingSend& p, const store::ChannelRecord& channel, store::QueuedSend& q,
                    store::SendReader& reader);
  /// Returns once every message of the channel committed so far has had its event published
  /// (at most one batch: a few milliseconds). History calls it after their read, so a resume
  /// that replays a message has also held back its live event — no gap, no duplicate.
  void wait_published(const std::string& app_id, const std::string& channel_id);

  /// The channel and the caller's membership of it (absent: not a member).
  struct Access {
    store::ChannelRecord channel;
    std::optional<store::MemberRecord> member;
  };
  /// Reads the caller's Access; fails as rules::may_read does.
  Result<Access> readable(const Caller& who, const std::string& channel_id);
  Result<MessagePage> with_own_reactions(const Caller& who, const std::string& channel_id,
                                         std::vector<store::MessageRecord> items, bool has_more);
  Status require_active_user(const std::string& app_id, const std::string& user_id);
  void emit(ChatEvent e);
  void emit_parent_updated(const store::MessageRecord& deleted);

  store::Store& store_;
  store::ChatStore& chat_;
  EventSink* events_ = nullptr;     // set before serving, read-only after
  class SendGate* gate_ = nullptr;  // set before serving, read-only after
  class Outbox* outbox_ = nullptr;  // set before serving, read-only after
  // Sends are committed in batches by a committer thread, which hands each committed batch to
  // its own publisher thread: that one publishes the batch's events and then acknowledges its
  // sends, in commit order, while the committer commits the next batch. A channel's message
  // events leave in seq order without a lock.
  Mutex unpublished_mu_;
  std::condition_variable unpublished_cv_;  // signalled when a batch's channels leave unpublished_
  std::unordered_map<std::string, int> unpublished_ GUARDED_BY(unpublished_mu_);  // channel -> batches
  // Last: their threads use the members above. A channel always goes to the same committer;
  // committer i hands its batches to publisher i. The committers stop (and hand over what they
  // committed) before the publishers: sends_ is destroyed first.
  std::vector<std::unique_ptr<GroupCommitter<CommittedBatch>>> publishers_;
  std::vector<std::unique_ptr<GroupCommitter<PendingSend>>> sends_;
};

// grantable: chat/permissions.hpp; mentions_in_text: chat/mentions.hpp.

}  // namespace parley::chat
