#include "chat/event_builder.hpp"

#include <boost/json/array.hpp>

#include "chat/chat_json.hpp"

namespace parley::chat::event {

namespace {

ChatEvent on_channel(bus::EventType type, const std::string& app_id, const std::string& channel_id) {
  ChatEvent e;
  e.type = type;
  e.app_id = app_id;
  e.channel_id = channel_id;
  return e;
}

boost::json::array id_array(const std::vector<std::string>& ids) {
  boost::json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}

}  // namespace

ChatEvent channel_created(const store::ChannelRecord& channel, std::vector<std::string> members) {
  ChatEvent e = on_channel(bus::EventType::channel_created, channel.app_id, channel.id);
  e.users = std::move(members);
  e.data = {{"channel", to_json(channel)}};
  return e;
}

ChatEvent channel_updated(const store::ChannelRecord& channel) {
  ChatEvent e = on_channel(bus::EventType::channel_updated, channel.app_id, channel.id);
  e.data = {{"channel", to_json(channel)}};
  return e;
}

ChatEvent channel_deleted(const std::string& app_id, const std::string& channel_id) {
  ChatEvent e = on_channel(bus::EventType::channel_deleted, app_id, channel_id);
  e.data = {{"channel_id", channel_id}};
  return e;
}

ChatEvent members_added(const std::string& app_id, const std::string& channel_id, std::vector<std::string> user_ids,
                        store::Role role, const std::string& by) {
  ChatEvent e = on_channel(bus::EventType::member_added, app_id, channel_id);
  e.data = {{"user_ids", id_array(user_ids)}, {"role", store::role_name(role)}, {"added_by", by}};
  e.users = std::move(user_ids);
  return e;
}

ChatEvent member_removed(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                         const std::string& by) {
  ChatEvent e = on_channel(bus::EventType::member_removed, app_id, channel_id);
  e.users = {user_id};
  e.data = {{"user_id", user_id}, {"removed_by", by}};
  return e;
}

ChatEvent member_updated(const store::MemberRecord& member) {
  ChatEvent e = on_channel(bus::EventType::member_updated, member.app_id, member.channel_id);
  e.data = {{"member", to_json(member)}};
  return e;
}

ChatEvent own_membership_updated(const store::MemberRecord& member) {
  ChatEvent e = member_updated(member);
  e.users = {member.user_id};
  e.users_only = true;
  return e;
}

ChatEvent message(bus::EventType type, const store::MessageRecord& m) {
  ChatEvent e = on_channel(type, m.app_id, m.channel_id);
  e.seq = m.seq;
  e.data = {{"message", to_json(m, {}, false)}};
  return e;
}

ChatEvent thread_reply(const store::MessageRecord& parent, std::int64_t reply_seq) {
  ChatEvent e = on_channel(bus::EventType::thread_reply, parent.app_id, parent.channel_id);
  e.seq = parent.seq;
  e.data = {{"parent_seq", parent.seq},
            {"reply_seq", reply_seq},
            {"reply_count", parent.reply_count},
            {"thread_participants", to_json(parent, {}, false)["thread_participants"]}};
  return e;
}

ChatEvent reaction(bool added, const store::MessageRecord& m, const std::string& type, const std::string& user_id) {
  ChatEvent e =
      on_channel(added ? bus::EventType::reaction_added : bus::EventType::reaction_removed, m.app_id, m.channel_id);
  e.seq = m.seq;
  e.data = {{"seq", m.seq}, {"type", type}, {"user_id", user_id}, {"reactions", to_json(m, {}, false)["reactions"]}};
  return e;
}

ChatEvent read_updated(const std::string& app_id, const std::string& channel_id, const std::string& user_id,
                       std::int64_t last_read_seq) {
  ChatEvent e = on_channel(bus::EventType::read_updated, app_id, channel_id);
  e.seq = last_read_seq;
  e.data = {{"user_id", user_id}, {"last_read_seq", last_read_seq}};
  return e;
}

ChatEvent unread_changed(const std::string& app_id, const std::string& user_id, const store::UnreadTotals& totals,
                         const std::string& channel_id, std::int64_t channel_unread) {
  ChatEvent e;
  e.type = bus::EventType::unread_changed;
  e.app_id = app_id;
  e.users = {user_id};
  e.users_only = true;
  e.data = {{"unread_count", totals.unread_count},
            {"unread_mentions", totals.unread_mentions},
            {"channels_with_unread", totals.channels_with_unread},
            {"channel_id", channel_id},
            {"channel_unread_count", channel_unread}};
  return e;
}

}  // namespace parley::chat::event
