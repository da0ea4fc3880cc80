#pragma once
// Chat records as the store keeps them. JSON columns stay serialized text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace parley::store {

/// A member's role, in rank order: "at least admin" is `role >= Role::admin`. Stored and sent
/// as its name (role_name); parse_role reads a name back (nullopt for anything else).
enum class Role { member = 1, moderator, admin, owner };
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

/// A channel's type. Stored and sent as its name: "dm", "group", "public".
enum class ChannelType { dm, group, public_ };
std::string_view channel_type_name(ChannelType type);
std::optional<ChannelType> parse_channel_type(std::string_view name);

struct ChannelRecord {
  std::string app_id;
  std::string id;
  ChannelType type = ChannelType::group;
  std::string name;
  std::string topic;
  std::string image_url;
  std::string custom_json = "{}";
  std::optional<std::string> dm_key;
  std::string created_by;
  TimeMs created_at = 0;
  TimeMs updated_at = 0;
  std::optional<TimeMs> archived_at;
  std::optional<TimeMs> deleted_at;
  std::int64_t last_seq = 0;
  std::optional<TimeMs> last_message_at;
  TimeMs activity_at = 0;
  std::int64_t member_count = 0;
  std::int64_t deleted_count = 0;
  std::int64_t version = 0;
};

struct MemberRecord {
  std::string app_id;
  std::string channel_id;
  std::string user_id;
  Role role = Role::member;
  TimeMs joined_at = 0;
  std::int64_t last_read_seq = 0;
  std::int64_t last_mention_seq = 0;
  bool muted = false;
  bool starred = false;
  bool hidden = false;
  std::int64_t version = 0;
};

struct MessageRecord {
  std::string app_id;
  std::string channel_id;
  std::int64_t seq = 0;
  std::string user_id;
  std::string text;
  std::string attachments_json = "[]";
  std::string mentions_json = "[]";
  std::optional<std::int64_t> parent_seq;
  std::optional<std::string> client_msg_id;
  TimeMs created_at = 0;
  std::optional<TimeMs> edited_at;
  std::optional<TimeMs> deleted_at;
  std::int64_t reply_count = 0;
  std::optional<TimeMs> last_reply_at;
  std::string thread_participants_json = "[]";
  std::string reactions_json = "{}";
  std::optional<TimeMs> pinned_at;
  std::string link_previews_json = "[]";  // attached by the preview job (src/previews/)
};

/// A channel in a member's list, with the member's unread state.
struct ChannelView {
  ChannelRecord channel;
  std::optional<MemberRecord> membership;
  std::int64_t unread_count = 0;
  std::int64_t unread_mentions = 0;
  std::optional<MessageRecord> last_message;
};

struct NewMessage {
  std::string user_id;
  std::string text;
  std::string attachments_json = "[]";
  std::vector<std::string> mentions;  // members to flag (validated by the caller)
  std::string mentions_json = "[]";
  std::optional<std::int64_t> parent_seq;
  std::optional<std::string> client_msg_id;
  TimeMs created_at = 0;
};

struct SendResult {
  MessageRecord message;
  bool duplicate = false;
  /// For a new reply: its parent as the send left it (reply count, thread participants).
  std::optional<MessageRecord> parent;
};

struct UnreadTotals {
  std::int64_t unread_count = 0;
  std::int64_t unread_mentions = 0;
  std::int64_t channels_with_unread = 0;
};

struct ChannelChanges {
  std::vector<ChannelView> added;    // memberships newer than the cursor
  std::vector<ChannelView> updated;  // channels changed since the cursor
  std::vector<std::string> removed;  // left, removed, or deleted
  std::int64_t cursor = 0;           // the app's change counter now
};

/// Where a channel list page starts: after (activity_at, id) in descending activity order.
struct ActivityCursor {
  TimeMs activity_at = 0;
  std::string id;
};

enum class MessageFlag : int { mentioned = 1, saved = 2 };

struct FlagCursor {
  TimeMs flagged_at = 0;
  std::string channel_id;
  std::int64_t seq = 0;
};

struct FlaggedMessage {
  MessageRecord message;
  TimeMs flagged_at = 0;
};

}  // namespace parley::store
