#pragma once
// The realtime events of chat changes (docs/api.md, "Events"): one builder per event type, so
// each payload's shape is written once. Pure functions of committed records; thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "chat/events.hpp"
#include "store/chat_types.hpp"

namespace parley::chat::event {

/// channel.created, delivered to (and subscribing) `members`.
ChatEvent channel_created(const store::ChannelRecord& channel, std::vector<std::string> members);
/// channel.updated: the channel as saved (rename, topic, archive).
ChatEvent channel_updated(const store::ChannelRecord& channel);
ChatEvent channel_deleted(const std::string& app_id, const std::string& channel_id);

/// member.added: `user_ids` joined with `role`, added by `by` (themselves for a join).
ChatEvent members_added(const std::string& app_id, const std::string& channel_id, std::vector<std::string> user_ids,
                        store::Role role, const std::string& by);
/// member.removed: `user_id` left (by == user_id) or was removed by `by`.
ChatEvent member_removed(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                         const std::string& by);
/// member.updated for the channel (a role change).
ChatEvent member_updated(const store::MemberRecord& member);
/// member.updated for the member's own devices only (muted, starred, hidden).
ChatEvent own_membership_updated(const store::MemberRecord& member);

/// message.new, message.updated or message.deleted: the message as it is now.
ChatEvent message(bus::EventType type, const store::MessageRecord& m);
/// thread.reply: `parent` got `reply_seq`; carries its reply count and participants.
ChatEvent thread_reply(const store::MessageRecord& parent, std::int64_t reply_seq);
/// reaction.added / reaction.removed by `user_id`, with the message's reaction counts after it.
ChatEvent reaction(bool added, const store::MessageRecord& m, const std::string& type, const std::string& user_id);

/// read.updated: `user_id` read up to `last_read_seq`.
ChatEvent read_updated(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                       std::int64_t last_read_seq);
/// unread.changed, for the user's own devices: their totals and the channel's count.
ChatEvent unread_changed(const std::string& app_id, const std::string& user_id, const store::UnreadTotals& totals,
                         const std::string& channel_id, std::int64_t channel_unread);

}  // namespace parley::chat::event
