#pragma once
// Column lists and row readers of the chat tables, shared by both stores (their chat stores and
// group-commit batch writers). A Row is a store's statement: text, opt_text, int64, opt_int64
// and boolean by column index.
#include "store/chat_types.hpp"

namespace parley::store {

// Column lists, in the order the read_* functions expect.
#define CHANNEL_COLS(p)                                                                                                \
  p "app_id, " p "id, " p "type, " p "name, " p "topic, " p "image_url, " p "custom, " p "dm_key, " p "created_by, " p \
    "created_at, " p "updated_at, " p "archived_at, " p "deleted_at, " p "last_seq, " p "last_message_at, " p          \
    "activity_at, " p "member_count, " p "deleted_count, " p "version"
inline constexpr int kChannelCols = 19;
#define MEMBER_COLS(p)                                                                                                \
  p "app_id, " p "channel_id, " p "user_id, " p "role, " p "joined_at, " p "last_read_seq, " p "last_mention_seq, " p \
    "muted, " p "starred, " p "hidden, " p "version"
inline constexpr int kMemberCols = 11;
#define MESSAGE_COLS(p)                                                                                                \
  p "app_id, " p "channel_id, " p "seq, " p "user_id, " p "text, " p "attachments, " p "mentions, " p "parent_seq, " p \
    "client_msg_id, " p "created_at, " p "edited_at, " p "deleted_at, " p "reply_count, " p "last_reply_at, " p        \
    "thread_participants, " p "reactions, " p "pinned_at, " p "link_previews"
inline constexpr int kMessageCols = 18;

// The enum columns. An unknown name cannot come through the API; should one be in a row anyway,
// it reads as the least privilege: a plain member, a group channel (members only).
inline Role role_column(std::string_view text) { return parse_role(text).value_or(Role::member); }
inline ChannelType channel_type_column(std::string_view text) {
  return parse_channel_type(text).value_or(ChannelType::group);
}

template <class Row>
ChannelRecord read_channel(const Row& st, int o = 0) {
  ChannelRecord c;
  c.app_id = st.text(o + 0);
  c.id = st.text(o + 1);
  c.type = channel_type_column(st.text(o + 2));
  c.name = st.text(o + 3);
  c.topic = st.text(o + 4);
  c.image_url = st.text(o + 5);
  c.custom_json = st.text(o + 6);
  c.dm_key = st.opt_text(o + 7);
  c.created_by = st.text(o + 8);
  c.created_at = st.int64(o + 9);
  c.updated_at = st.int64(o + 10);
  c.archived_at = st.opt_int64(o + 11);
  c.deleted_at = st.opt_int64(o + 12);
  c.last_seq = st.int64(o + 13);
  c.last_message_at = st.opt_int64(o + 14);
  c.activity_at = st.int64(o + 15);
  c.member_count = st.int64(o + 16);
  c.deleted_count = st.int64(o + 17);
  c.version = st.int64(o + 18);
  return c;
}

template <class Row>
MemberRecord read_member(const Row& st, int o = 0) {
  MemberRecord m;
  m.app_id = st.text(o + 0);
  m.channel_id = st.text(o + 1);
  m.user_id = st.text(o + 2);
  m.role = role_column(st.text(o + 3));
  m.joined_at = st.int64(o + 4);
  m.last_read_seq = st.int64(o + 5);
  m.last_mention_seq = st.int64(o + 6);
  m.muted = st.boolean(o + 7);
  m.starred = st.boolean(o + 8);
  m.hidden = st.boolean(o + 9);
  m.version = st.int64(o + 10);
  return m;
}

template <class Row>
MessageRecord read_message(const Row& st, int o = 0) {
  MessageRecord m;
  m.app_id = st.text(o + 0);
  m.channel_id = st.text(o + 1);
  m.seq = st.int64(o + 2);
  m.user_id = st.text(o + 3);
  m.text = st.text(o + 4);
  m.attachments_json = st.text(o + 5);
  m.mentions_json = st.text(o + 6);
  m.parent_seq = st.opt_int64(o + 7);
  m.client_msg_id = st.opt_text(o + 8);
  m.created_at = st.int64(o + 9);
  m.edited_at = st.opt_int64(o + 10);
  m.deleted_at = st.opt_int64(o + 11);
  m.reply_count = st.int64(o + 12);
  m.last_reply_at = st.opt_int64(o + 13);
  m.thread_participants_json = st.text(o + 14);
  m.reactions_json = st.text(o + 15);
  m.pinned_at = st.opt_int64(o + 16);
  m.link_previews_json = st.text(o + 17);
  return m;
}

}  // namespace parley::store
