#pragma once
// The permission rules of docs/api.md as pure functions: each judges a channel, the caller's
// membership (absent: not a member) and, where a rule needs them, another member, a message or
// the content of a write, and returns ok or the error the caller gets. No store access, no
// clock: the chat service reads the inputs (for a write, inside that write's transaction; see
// store::Guard) and the rules decide. Thread-safe: plain functions of their arguments.
//
// Every rule on a channel starts with the same two steps, so errors come in one order:
// may_read (the channel exists for the caller), then, for writes, may_write (a member of a
// channel that is not archived).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "store/chat_types.hpp"

namespace parley::chat {

/// The roles that can be granted: member, moderator, admin (owner is only held, by the creator).
bool grantable(store::Role role);

namespace rules {

using Member = std::optional<store::MemberRecord>;

/// A member whose role is `role` or above (store::Role is in rank order).
bool at_least(const Member& me, store::Role role);

/// The channel exists for the caller: not deleted, and a member of it unless it is public.
Status may_read(const store::ChannelRecord& channel, const Member& me);
/// may_read, and a member of a channel that is not archived.
Status may_write(const store::ChannelRecord& channel, const Member& me);

// Channels.
/// Name, topic, image, custom data: owners and admins of a group or public channel.
Status may_update_channel(const store::ChannelRecord& channel, const Member& me);
/// Archive or unarchive: owners and admins of a group or public channel (also when archived).
Status may_archive(const store::ChannelRecord& channel, const Member& me);
/// Delete: the owner only.
Status may_delete_channel(const store::ChannelRecord& channel, const Member& me);

// Members.
/// Owners and admins of a group or public channel add members.
Status may_add_members(const store::ChannelRecord& channel, const Member& me);
/// Owners and admins remove anyone but the owner; not in a DM.
Status may_remove_member(const store::ChannelRecord& channel, const Member& me, const Member& target);
/// Owners and admins change anyone's role but the owner's.
Status may_set_role(const store::ChannelRecord& channel, const Member& me, const Member& target);
/// Anyone who can read a channel that is not archived joins it (already a member: ok).
Status may_join(const store::ChannelRecord& channel, const Member& me);
/// A member leaves, except from a DM and except the owner while others remain.
Status may_leave(const store::ChannelRecord& channel, const Member& me);
/// Mute, star, hide: the caller's own membership.
Status may_update_membership(const store::ChannelRecord& channel, const Member& me);
/// Read state and saved messages are kept for members only.
Status may_mark_read(const store::ChannelRecord& channel, const Member& me);
Status may_save(const store::ChannelRecord& channel, const Member& me);

// Messages.
/// The channel half of a send (may_write); the content is judged by check_new_content.
Status may_post(const store::ChannelRecord& channel, const Member& me);
/// A new message's content: at most `max_bytes` of text, not empty without attachments.
Status check_new_content(const std::string& text, std::size_t attachment_count, std::int64_t max_bytes);
/// In a DM, `blocked` (either user blocked the other) forbids the send.
Status may_post_in_dm(bool blocked);
/// The author edits their own message while it is not deleted; `text` and `attachments_json`
/// (absent: unchanged) must leave it non-empty, the text at most `max_bytes`.
Status may_edit(const store::ChannelRecord& channel, const Member& me, const std::optional<store::MessageRecord>& msg,
                const std::string& text, const std::optional<std::string>& attachments_json, std::int64_t max_bytes);
/// The author, or a moderator and above, deletes a message (a deleted one again: ok).
Status may_delete_message(const store::ChannelRecord& channel, const Member& me,
                          const std::optional<store::MessageRecord>& msg);
/// Members react to messages that are not deleted.
Status may_react(const store::ChannelRecord& channel, const Member& me, const std::optional<store::MessageRecord>& msg);
/// Moderators and above pin (not a deleted message) and unpin.
Status may_pin(const store::ChannelRecord& channel, const Member& me, const std::optional<store::MessageRecord>& msg,
               bool on);

}  // namespace rules
}  // namespace parley::chat
