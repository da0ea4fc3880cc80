#include "chat/permissions.hpp"

namespace parley::chat {

using store::ChannelType;
using store::Role;

bool grantable(Role role) { return role != Role::owner; }

namespace rules {

namespace {

Error denied(std::string why) { return Error{Errc::forbidden, std::move(why)}; }
Error archived() { return Error{Errc::conflict, "the channel is archived"}; }

}  // namespace

bool at_least(const Member& me, Role role) { return me && me->role >= role; }

Status may_read(const store::ChannelRecord& channel, const Member& me) {
  if (channel.deleted_at) return not_found("channel");
  if (!me && channel.type != ChannelType::public_) return not_found("channel");
  return ok_status();
}

Status may_write(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me) return denied("join the channel first");
  if (channel.archived_at) return archived();
  return ok_status();
}

Status may_update_channel(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_write(channel, me));
  if (channel.type == ChannelType::dm) return denied("direct messages have no name or topic to change");
  if (!at_least(me, Role::admin)) return denied("only owners and admins update a channel");
  return ok_status();
}

Status may_archive(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!at_least(me, Role::admin) || channel.type == ChannelType::dm) {
    return denied("only owners and admins archive a group or public channel");
  }
  return ok_status();
}

Status may_delete_channel(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me || me->role != Role::owner) return denied("only the owner deletes a channel");
  return ok_status();
}

Status may_add_members(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_write(channel, me));
  if (channel.type == ChannelType::dm) return denied("a direct message has exactly two members");
  if (!at_least(me, Role::admin)) return denied("only owners and admins add members");
  return ok_status();
}

Status may_remove_member(const store::ChannelRecord& channel, const Member& me, const Member& target) {
  PARLEY_TRY(may_write(channel, me));
  if (channel.type == ChannelType::dm) return denied("a direct message has exactly two members");
  if (!at_least(me, Role::admin)) return denied("only owners and admins remove members");
  if (!target) return not_found("member");
  if (target->role == Role::owner) return denied("the owner cannot be removed");
  return ok_status();
}

Status may_set_role(const store::ChannelRecord& channel, const Member& me, const Member& target) {
  PARLEY_TRY(may_write(channel, me));
  if (!at_least(me, Role::admin)) return denied("only owners and admins change roles");
  if (!target) return not_found("member");
  if (target->role == Role::owner) return denied("the owner's role cannot change");
  return ok_status();
}

Status may_join(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (me) return ok_status();  // joining twice changes nothing
  if (channel.archived_at) return archived();
  return ok_status();
}

Status may_leave(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me) return not_found("member");
  if (channel.type == ChannelType::dm) return denied("a direct message cannot be left; hide it instead");
  if (me->role == Role::owner && channel.member_count > 1) {
    return Error{Errc::conflict, "the owner cannot leave a channel that has other members"};
  }
  return ok_status();
}

Status may_update_membership(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me) return not_found("member");
  return ok_status();
}

Status may_mark_read(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me) return denied("only members keep read state; join first");
  return ok_status();
}

Status may_save(const store::ChannelRecord& channel, const Member& me) {
  PARLEY_TRY(may_read(channel, me));
  if (!me) return denied("only members save messages; join first");
  return ok_status();
}

Status may_post(const store::ChannelRecord& channel, const Member& me) { return may_write(channel, me); }

Status check_new_content(const std::string& text, std::size_t attachment_count, std::int64_t max_bytes) {
  if (text.size() > static_cast<std::size_t>(max_bytes)) {
    return violates("text", "longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (text.empty() && attachment_count == 0) return violates("text", "empty message without attachments");
  return ok_status();
}

Status may_post_in_dm(bool blocked) {
  if (blocked) return denied("one of the two users blocked the other");
  return ok_status();
}

Status may_edit(const store::ChannelRecord& channel, const Member& me, const std::optional<store::MessageRecord>& msg,
                const std::string& text, const std::optional<std::string>& attachments_json, std::int64_t max_bytes) {
  PARLEY_TRY(may_write(channel, me));
  if (!msg || msg->deleted_at) return not_found("message");
  if (msg->user_id != me->user_id) return denied("only the author edits a message");
  if (text.empty() && attachments_json.value_or(msg->attachments_json) == "[]") {
    return violates("text", "empty message without attachments");
  }
  if (text.size() > static_cast<std::size_t>(max_bytes)) {
    return violates("text", "longer than " + std::to_string(max_bytes) + " bytes");
  }
  return ok_status();
}

Status may_delete_message(const store::ChannelRecord& channel, const Member& me,
                          const std::optional<store::MessageRecord>& msg) {
  PARLEY_TRY(may_write(channel, me));
  if (!msg) return not_found("message");
  if (msg->user_id != me->user_id && !at_least(me, Role::moderator)) {
    return denied("only the author or a moderator deletes a message");
  }
  return ok_status();
}

Status may_react(const store::ChannelRecord& channel, const Member& me,
                 const std::optional<store::MessageRecord>& msg) {
  PARLEY_TRY(may_write(channel, me));
  if (!msg || msg->deleted_at) return not_found("message");
  return ok_status();
}

Status may_pin(const store::ChannelRecord& channel, const Member& me, const std::optional<store::MessageRecord>& msg,
               bool on) {
  PARLEY_TRY(may_write(channel, me));
  if (!at_least(me, Role::moderator)) return denied("only moderators and above pin messages");
  if (!msg || (on && msg->deleted_at)) return not_found("message");
  return ok_status();
}

}  // namespace rules
}  // namespace parley::chat
