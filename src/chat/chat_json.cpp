#include "chat/chat_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "core/time.hpp"
#include "core/utf8.hpp"

namespace parley::chat {

namespace json = boost::json;

namespace {
json::value time_or_null(const std::optional<TimeMs>& t) {
  if (!t) return nullptr;
  return json::value(format_time(*t));
}
json::value parsed(const std::string& text, json::value fallback) {
  if (text == "[]") return json::array{};  // the common empty cases skip the parser
  if (text == "{}") return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec) return fallback;
  return v;
}
}  // namespace

json::object to_json(const store::ChannelRecord& c) {
  json::object o{{"id", c.id},
                 {"type", store::channel_type_name(c.type)},
                 {"name", c.name},
                 {"topic", c.topic},
                 {"image_url", c.image_url},
                 {"custom", parsed(c.custom_json, json::object{})},
                 {"created_by", c.created_by},
                 {"created_at", format_time(c.created_at)},
                 {"updated_at", format_time(c.updated_at)},
                 {"archived_at", time_or_null(c.archived_at)},
                 {"last_seq", c.last_seq},
                 {"last_message_at", time_or_null(c.last_message_at)},
                 {"member_count", c.member_count}};
  if (c.dm_key) {
    auto nl = c.dm_key->find('\n');
    o["dm_user_ids"] = json::array{json::value(c.dm_key->substr(0, nl)), json::value(c.dm_key->substr(nl + 1))};
  }
  return o;
}

json::object to_json(const store::ChannelView& v) {
  json::object o = to_json(v.channel);
  o["last_message"] = v.last_message ? json::value(to_json(*v.last_message, {}, true)) : json::value(nullptr);
  o["membership"] = v.membership ? json::value(to_json(*v.membership)) : json::value(nullptr);
  o["unread_count"] = v.unread_count;
  o["unread_mentions"] = v.unread_mentions;
  return o;
}

json::object to_json(const store::MemberRecord& m) {
  return {{"user_id", m.user_id},
          {"role", store::role_name(m.role)},
          {"joined_at", format_time(m.joined_at)},
          {"last_read_seq", m.last_read_seq},
          {"muted", m.muted},
          {"starred", m.starred},
          {"hidden", m.hidden}};
}

json::object to_json(const store::MessageRecord& m, const std::vector<std::string>& own, bool preview) {
  json::object o;
  o.reserve(21);  // every key below: one table, no rehash as it fills
  o.emplace("channel_id", m.channel_id);
  o.emplace("seq", m.seq);
  o.emplace("user_id", m.user_id);
  if (preview) {
    bool cut = false;
    o["text"] = utf8_prefix(m.text, kPreviewChars, cut);
    o["truncated"] = cut;
  } else {
    o["text"] = m.text;
  }
  json::array own_json;
  for (const auto& t : own) own_json.emplace_back(t);
  o["attachments"] = parsed(m.attachments_json, json::array{});
  o["parent_seq"] = m.parent_seq ? json::value(*m.parent_seq) : json::value(nullptr);
  o["client_msg_id"] = m.client_msg_id ? json::value(*m.client_msg_id) : json::value(nullptr);
  o["mentions"] = parsed(m.mentions_json, json::array{});
  o["created_at"] = format_time(m.created_at);
  o["edited_at"] = time_or_null(m.edited_at);
  o["deleted_at"] = time_or_null(m.deleted_at);
  o["reply_count"] = m.reply_count;
  o["last_reply_at"] = time_or_null(m.last_reply_at);
  o["thread_participants"] = parsed(m.thread_participants_json, json::array{});
  o["reactions"] = parsed(m.reactions_json, json::object{});
  o["own_reactions"] = std::move(own_json);
  o["pinned"] = m.pinned_at.has_value();
  o["link_previews"] = parsed(m.link_previews_json, json::array{});
  return o;
}

json::array messages_json(const MessagePage& page, bool preview) {
  static const std::vector<std::string> kNone;
  json::array items;
  for (const auto& m : page.items) {
    auto it = page.own_reactions.find(m.seq);
    items.push_back(to_json(m, it == page.own_reactions.end() ? kNone : it->second, preview));
  }
  return items;
}

}  // namespace parley::chat
