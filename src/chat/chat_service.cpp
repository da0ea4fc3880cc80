// ChatService outside the send path: channels, members, message reads and writes, read state,
// pins, saved messages, blocks and sync. Each call reads what its rule needs, asks the rule
// (chat/permissions.hpp), writes through the store and publishes the change's events. A write
// whose rule depends on channel state, memberships or roles hands the rule to the store as a
// store::Guard, which judges inside the write's own transaction: nothing changes in between.
#include "chat/chat_service.hpp"

#include <algorithm>
#include <set>

#include "chat/event_builder.hpp"
#include "core/crypto.hpp"
#include "tenancy/settings.hpp"

namespace parley::chat {

namespace {
Error denied(std::string why) { return Error{Errc::forbidden, std::move(why)}; }
}  // namespace

void ChatService::emit(ChatEvent e) {
  if (events_) events_->publish(std::move(e));
}

void ChatService::announce_user(bus::EventType type, const std::string& app_id, const std::string& user_id,
                                boost::json::object user) {
  ChatEvent e;
  e.type = type;
  e.app_id = app_id;
  e.users = {user_id};
  e.users_only = true;
  e.data = {{"user", std::move(user)}};
  emit(std::move(e));
}

Status ChatService::require_active_user(const std::string& app_id, const std::string& user_id) {
  auto u = store_.get_user(app_id, user_id);
  if (!u) return u.error().code == Errc::not_found ? not_found("user " + user_id) : std::move(u).error();
  if (u->deactivated_at) return not_found("user " + user_id);
  return ok_status();
}

Result<ChatService::Access> ChatService::readable(const Caller& who, const std::string& channel_id) {
  PARLEY_ASSIGN_OR_RETURN(auto ch, chat_.get_channel(who.app_id(), channel_id));
  if (ch.deleted_at) return not_found("channel");  // before the member read
  PARLEY_ASSIGN_OR_RETURN(auto m, chat_.get_member(who.app_id(), channel_id, who.user_id));
  PARLEY_TRY(rules::may_read(ch, m));
  return Access{std::move(ch), std::move(m)};
}

Result<store::ChannelView> ChatService::create_channel(const Caller& who, const NewChannel& spec) {
  const auto& settings = who.app->settings;
  std::set<std::string> ids(spec.members.begin(), spec.members.end());
  ids.erase(who.user_id);
  if (static_cast<std::int64_t>(ids.size()) + 1 > settings.max_channel_members) {
    return violates("members", "more than the member limit of " + std::to_string(settings.max_channel_members));
  }
  for (const auto& id : ids) PARLEY_TRY(require_active_user(who.app_id(), id));
  TimeMs now = now_ms();
  store::ChannelRecord ch;
  ch.app_id = who.app_id();
  ch.id = crypto::random_id("ch_", 20);
  ch.type = spec.type;
  ch.name = spec.name;
  ch.topic = spec.topic;
  ch.image_url = spec.image_url;
  ch.custom_json = spec.custom_json;
  ch.created_by = who.user_id;
  ch.created_at = now;
  std::vector<store::MemberRecord> members;
  members.push_back({who.app_id(), ch.id, who.user_id, store::Role::owner, now});
  for (const auto& id : ids) members.push_back({who.app_id(), ch.id, id, store::Role::member, now});
  PARLEY_ASSIGN_OR_RETURN(auto created, chat_.create_channel(ch, members));
  std::vector<std::string> users;
  users.reserve(members.size());
  for (const auto& m : members) users.push_back(m.user_id);
  emit(event::channel_created(created, std::move(users)));
  return chat_.channel_view(who.app_id(), ch.id, who.user_id);
}

Result<std::pair<store::ChannelView, bool>> ChatService::ensure_dm(const Caller& who, const std::string& other) {
  if (other == who.user_id) return violates("user_id", "a direct message needs another user");
  PARLEY_TRY(require_active_user(who.app_id(), other));
  auto blocked = chat_.blocked_either(who.app_id(), who.user_id, other);
  if (!blocked) return std::move(blocked).error();
  std::string key = std::min(who.user_id, other) + '\n' + std::max(who.user_id, other);
  PARLEY_ASSIGN_OR_RETURN(auto existing, chat_.find_dm(who.app_id(), key));
  if (*blocked) return denied("one of the two users blocked the other");
  if (existing && !(existing)->deleted_at) {
    auto v = chat_.channel_view(who.app_id(), (existing)->id, who.user_id);
    if (!v) return std::move(v).error();
    return std::pair{std::move(*v), false};
  }
  TimeMs now = now_ms();
  store::ChannelRecord ch;
  ch.app_id = who.app_id();
  ch.id = crypto::random_id("ch_", 20);
  ch.type = store::ChannelType::dm;
  ch.dm_key = key;
  ch.created_by = who.user_id;
  ch.created_at = now;
  std::vector<store::MemberRecord> members = {{who.app_id(), ch.id, who.user_id, store::Role::member, now},
                                              {who.app_id(), ch.id, other, store::Role::member, now}};
  auto created = chat_.create_channel(ch, members);
  if (!created && created.error().code == Errc::conflict) return ensure_dm(who, other);  // lost a race: reuse
  if (!created) return std::move(created).error();
  emit(event::channel_created(*created, {who.user_id, other}));
  PARLEY_ASSIGN_OR_RETURN(auto v, chat_.channel_view(who.app_id(), ch.id, who.user_id));
  return std::pair{std::move(v), true};
}

Result<std::vector<store::ChannelView>> ChatService::list_channels(const Caller& who,
                                                                   const std::optional<store::ChannelType>& type,
                                                                   bool include_hidden,
                                                                   const std::optional<store::ActivityCursor>& after,
                                                                   int limit) {
  return chat_.list_member_channels(who.app_id(), who.user_id, type, include_hidden, after, limit);
}

Result<std::vector<store::ChannelRecord>> ChatService::list_public(
    const Caller& who, const std::string& prefix, const std::optional<std::pair<std::string, std::string>>& after,
    int limit) {
  return chat_.list_public_channels(who.app_id(), prefix, after, limit);
}

Result<store::UnreadTotals> ChatService::unread(const Caller& who) {
  return chat_.unread_totals(who.app_id(), who.user_id);
}

Result<store::ChannelView> ChatService::get_channel(const Caller& who, const std::string& channel_id) {
  PARLEY_TRY(readable(who, channel_id));
  return chat_.channel_view(who.app_id(), channel_id, who.user_id);
}

Result<store::ChannelView> ChatService::update_channel(const Caller& who, const std::string& channel_id,
                                                       const ChannelPatch& patch) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_update_channel(s.channel, s.actor); }};
  PARLEY_ASSIGN_OR_RETURN(auto saved,
                          chat_.update_channel_checked(guard, who.app_id(), channel_id, [&](store::ChannelRecord& ch) {
                            if (patch.name) ch.name = *patch.name;
                            if (patch.topic) ch.topic = *patch.topic;
                            if (patch.image_url) ch.image_url = *patch.image_url;
                            if (patch.custom_json) ch.custom_json = *patch.custom_json;
                            ch.updated_at = now_ms();
                          }));
  emit(event::channel_updated(saved));
  return chat_.channel_view(who.app_id(), channel_id, who.user_id);
}

Result<store::ChannelView> ChatService::set_archived(const Caller& who, const std::string& channel_id, bool archived) {
  store::Guard guard{who.user_id, [](const store::Standing& s) { return rules::may_archive(s.channel, s.actor); }};
  TimeMs now = now_ms();
  PARLEY_ASSIGN_OR_RETURN(
      auto saved, chat_.update_channel_checked(guard, who.app_id(), channel_id, [&](store::ChannelRecord& ch) {
        ch.archived_at = archived ? std::optional<TimeMs>(ch.archived_at.value_or(now)) : std::nullopt;
        ch.updated_at = now;
      }));
  emit(event::channel_updated(saved));
  return chat_.channel_view(who.app_id(), channel_id, who.user_id);
}

Status ChatService::delete_channel(const Caller& who, const std::string& channel_id) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_delete_channel(s.channel, s.actor); }};
  TimeMs now = now_ms();
  PARLEY_TRY(chat_.update_channel_checked(guard, who.app_id(), channel_id,
                                          [&](store::ChannelRecord& ch) { ch.deleted_at = ch.updated_at = now; }));
  emit(event::channel_deleted(who.app_id(), channel_id));
  return ok_status();
}

Result<std::vector<store::MemberRecord>> ChatService::list_members(const Caller& who, const std::string& channel_id,
                                                                   const std::string& after_user_id, int limit) {
  PARLEY_TRY(readable(who, channel_id));
  return chat_.list_members(who.app_id(), channel_id, after_user_id, limit);
}

Result<std::vector<std::string>> ChatService::add_members(const Caller& who, const std::string& channel_id,
                                                          const std::vector<std::string>& user_ids, store::Role role) {
  // Judged first as well, so that a refusal comes before any unknown user; the write judges again.
  PARLEY_ASSIGN_OR_RETURN(auto a, readable(who, channel_id));
  PARLEY_TRY(rules::may_add_members(a.channel, a.member));
  std::vector<store::MemberRecord> members;
  TimeMs now = now_ms();
  std::set<std::string> seen;
  for (const auto& id : user_ids) {
    if (!seen.insert(id).second) continue;
    PARLEY_TRY(require_active_user(who.app_id(), id));
    members.push_back({who.app_id(), channel_id, id, role, now});
  }
  const auto& settings = who.app->settings;
  store::Guard guard{who.user_id, [](const store::Standing& s) { return rules::may_add_members(s.channel, s.actor); }};
  auto added = chat_.add_members_checked(guard, who.app_id(), channel_id, members, settings.max_channel_members);
  if (added && !added->empty()) emit(event::members_added(who.app_id(), channel_id, *added, role, who.user_id));
  return added;
}

Status ChatService::remove_member(const Caller& who, const std::string& channel_id, const std::string& user_id) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_remove_member(s.channel, s.actor, s.subject); }};
  PARLEY_TRY(chat_.remove_member_checked(guard, who.app_id(), channel_id, user_id));
  emit(event::member_removed(who.app_id(), channel_id, user_id, who.user_id));
  return ok_status();
}

Result<store::MemberRecord> ChatService::set_role(const Caller& who, const std::string& channel_id,
                                                  const std::string& user_id, store::Role role) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_set_role(s.channel, s.actor, s.subject); }};
  auto saved = chat_.update_member_checked(guard, who.app_id(), channel_id, user_id,
                                           [&](store::MemberRecord& m) { m.role = role; });
  if (saved) emit(event::member_updated(*saved));
  return saved;
}

Result<store::MemberRecord> ChatService::join(const Caller& who, const std::string& channel_id) {
  const auto& settings = who.app->settings;
  std::vector<store::MemberRecord> me = {{who.app_id(), channel_id, who.user_id, store::Role::member, now_ms()}};
  store::Guard guard{who.user_id, [](const store::Standing& s) { return rules::may_join(s.channel, s.actor); }};
  PARLEY_ASSIGN_OR_RETURN(auto added,
                          chat_.add_members_checked(guard, who.app_id(), channel_id, me, settings.max_channel_members));
  if (!added.empty()) {
    emit(event::members_added(who.app_id(), channel_id, {who.user_id}, store::Role::member, who.user_id));
  }
  auto m = chat_.get_member(who.app_id(), channel_id, who.user_id);
  if (!m) return std::move(m).error();
  if (!*m) return Error{Errc::internal, "membership vanished"};
  return std::move(**m);
}

Status ChatService::leave(const Caller& who, const std::string& channel_id) {
  store::Guard guard{who.user_id, [](const store::Standing& s) { return rules::may_leave(s.channel, s.actor); }};
  PARLEY_TRY(chat_.remove_member_checked(guard, who.app_id(), channel_id, who.user_id));
  emit(event::member_removed(who.app_id(), channel_id, who.user_id, who.user_id));
  return ok_status();
}

Result<store::MemberRecord> ChatService::update_membership(const Caller& who, const std::string& channel_id,
                                                           const MembershipPatch& patch) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_update_membership(s.channel, s.actor); }};
  auto saved = chat_.update_member_checked(guard, who.app_id(), channel_id, who.user_id, [&](store::MemberRecord& m) {
    if (patch.muted) m.muted = *patch.muted;
    if (patch.starred) m.starred = *patch.starred;
    if (patch.hidden) m.hidden = *patch.hidden;
  });
  if (saved) emit(event::own_membership_updated(*saved));  // the user's own: only their devices hear of it
  return saved;
}

Result<MessagePage> ChatService::with_own_reactions(const Caller& who, const std::string& channel_id,
                                                    std::vector<store::MessageRecord> items, bool has_more) {
  MessagePage page;
  page.has_more = has_more;
  if (!items.empty()) {
    auto [lo, hi] =
        std::minmax_element(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.seq < y.seq; });
    PARLEY_ASSIGN_OR_RETURN(auto mine, chat_.own_reactions(who.app_id(), channel_id, who.user_id, lo->seq, hi->seq));
    for (auto& [seq, type] : mine) page.own_reactions[seq].push_back(std::move(type));
  }
  page.items = std::move(items);
  return page;
}

Result<MessagePage> ChatService::history(const Caller& who, const std::string& channel_id,
                                         std::optional<std::int64_t> after, std::optional<std::int64_t> before,
                                         int limit) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_ASSIGN_OR_RETURN(auto items, chat_.list_messages(who.app_id(), channel_id, after, before, limit + 1));
  wait_published(who.app_id(), channel_id);
  bool more = static_cast<int>(items.size()) > limit;
  if (more) {
    if (after)
      items.pop_back();  // ascending from `after`: drop the newest extra
    else
      items.erase(items.begin());  // before / newest page: drop the oldest extra
  }
  return with_own_reactions(who, channel_id, std::move(items), more);
}

Result<MessagePage> ChatService::get_message(const Caller& who, const std::string& channel_id, std::int64_t seq) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_ASSIGN_OR_RETURN(auto m, chat_.get_message(who.app_id(), channel_id, seq));
  return with_own_reactions(who, channel_id, {std::move(m)}, false);
}

Result<MessagePage> ChatService::edit(const Caller& who, const std::string& channel_id, std::int64_t seq,
                                      const std::string& text, const std::optional<std::string>& attachments_json) {
  auto max_bytes = who.app->settings.max_message_bytes;
  store::Guard guard{who.user_id, [&](const store::Standing& s) {
                       return rules::may_edit(s.channel, s.actor, s.message, text, attachments_json, max_bytes);
                     }};
  PARLEY_ASSIGN_OR_RETURN(
      auto edited, chat_.edit_message_checked(guard, who.app_id(), channel_id, seq, text, attachments_json, now_ms()));
  emit(event::message(bus::EventType::message_updated, edited));
  return with_own_reactions(who, channel_id, {std::move(edited)}, false);
}

Status ChatService::attach_link_previews(const std::string& app_id, const std::string& channel_id, std::int64_t seq,
                                         std::optional<TimeMs> edited_at, const std::string& previews_json) {
  PARLEY_ASSIGN_OR_RETURN(auto changed, chat_.set_link_previews(app_id, channel_id, seq, edited_at, previews_json));
  if (changed) emit(event::message(bus::EventType::message_updated, *changed));
  return ok_status();
}

Status ChatService::delete_message(const Caller& who, const std::string& channel_id, std::int64_t seq) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_delete_message(s.channel, s.actor, s.message); }};
  PARLEY_ASSIGN_OR_RETURN(auto deleted, chat_.delete_message_checked(guard, who.app_id(), channel_id, seq, now_ms()));
  emit(event::message(bus::EventType::message_deleted, deleted));
  emit_parent_updated(deleted);
  return ok_status();
}

// A deleted reply changed its parent's reply count: members see the parent as it is now.
void ChatService::emit_parent_updated(const store::MessageRecord& deleted) {
  if (!deleted.parent_seq) return;
  auto parent = chat_.get_message(deleted.app_id, deleted.channel_id, *deleted.parent_seq);
  if (parent) emit(event::message(bus::EventType::message_updated, *parent));
}

Status ChatService::purge(const std::string& app_id, const std::string& channel_id, std::int64_t seq) {
  PARLEY_ASSIGN_OR_RETURN(auto purged, chat_.delete_message(app_id, channel_id, seq, now_ms(), true));
  emit(event::message(bus::EventType::message_deleted, purged));
  emit_parent_updated(purged);
  return ok_status();
}

Result<MessagePage> ChatService::replies(const Caller& who, const std::string& channel_id, std::int64_t parent_seq,
                                         std::int64_t after, int limit) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_TRY(chat_.get_message(who.app_id(), channel_id, parent_seq));
  PARLEY_ASSIGN_OR_RETURN(auto items, chat_.list_replies(who.app_id(), channel_id, parent_seq, after, limit + 1));
  bool more = static_cast<int>(items.size()) > limit;
  if (more) items.pop_back();
  return with_own_reactions(who, channel_id, std::move(items), more);
}

Result<MessagePage> ChatService::react(const Caller& who, const std::string& channel_id, std::int64_t seq,
                                       const std::string& type, bool on) {
  store::Guard guard{who.user_id,
                     [](const store::Standing& s) { return rules::may_react(s.channel, s.actor, s.message); }};
  PARLEY_ASSIGN_OR_RETURN(
      auto updated, chat_.set_reaction_checked(guard, who.app_id(), channel_id, seq, who.user_id, type, on, now_ms()));
  emit(event::reaction(on, updated, type, who.user_id));
  return with_own_reactions(who, channel_id, {std::move(updated)}, false);
}

Result<std::vector<std::string>> ChatService::seen_by(const Caller& who, const std::string& channel_id,
                                                      std::int64_t seq) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_ASSIGN_OR_RETURN(auto m, chat_.get_message(who.app_id(), channel_id, seq));
  return chat_.seen_by(who.app_id(), channel_id, seq, m.user_id);
}

Result<std::pair<std::int64_t, std::int64_t>> ChatService::mark_read(const Caller& who, const std::string& channel_id,
                                                                     std::optional<std::int64_t> seq) {
  PARLEY_ASSIGN_OR_RETURN(auto a, readable(who, channel_id));
  PARLEY_TRY(rules::may_mark_read(a.channel, a.member));
  PARLEY_ASSIGN_OR_RETURN(auto m,
                          chat_.mark_read(who.app_id(), channel_id, who.user_id, seq.value_or(a.channel.last_seq)));
  PARLEY_ASSIGN_OR_RETURN(auto unread, chat_.unread_count(who.app_id(), channel_id, m.last_read_seq));
  if (m.last_read_seq > a.member->last_read_seq) {
    emit(event::read_updated(who.app_id(), channel_id, who.user_id, m.last_read_seq));
    if (auto totals = chat_.unread_totals(who.app_id(), who.user_id)) {
      emit(event::unread_changed(who.app_id(), who.user_id, *totals, channel_id, unread));
    }
  }
  return std::pair{m.last_read_seq, unread};
}

Status ChatService::pin(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on) {
  bool was_pinned = false;
  store::Guard guard{who.user_id, [&](const store::Standing& s) -> Status {
                       PARLEY_TRY(rules::may_pin(s.channel, s.actor, s.message, on));
                       was_pinned = s.message->pinned_at.has_value();
                       return ok_status();
                     }};
  PARLEY_ASSIGN_OR_RETURN(auto pinned,
                          chat_.set_pinned_checked(guard, who.app_id(), channel_id, seq,
                                                   on ? std::optional<TimeMs>(now_ms()) : std::nullopt, kMaxPins));
  if (pinned.pinned_at.has_value() != was_pinned) emit(event::message(bus::EventType::message_updated, pinned));
  return ok_status();
}

Result<MessagePage> ChatService::pins(const Caller& who, const std::string& channel_id) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_ASSIGN_OR_RETURN(auto items, chat_.list_pinned(who.app_id(), channel_id));
  return with_own_reactions(who, channel_id, std::move(items), false);
}

Status ChatService::save(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on) {
  PARLEY_ASSIGN_OR_RETURN(auto a, readable(who, channel_id));
  PARLEY_TRY(rules::may_save(a.channel, a.member));
  PARLEY_TRY(chat_.get_message(who.app_id(), channel_id, seq));
  return chat_.set_flag(who.app_id(), who.user_id, channel_id, seq, store::MessageFlag::saved, on, now_ms());
}

Result<std::vector<store::FlaggedMessage>> ChatService::flagged(const Caller& who, store::MessageFlag flag,
                                                                bool unread_only,
                                                                const std::optional<store::FlagCursor>& after,
                                                                int limit) {
  return chat_.list_flagged(who.app_id(), who.user_id, flag, unread_only, after, limit);
}

Status ChatService::block(const Caller& who, const std::string& user_id, bool on) {
  if (user_id == who.user_id) return violates("user_id", "you cannot block yourself");
  if (on) PARLEY_TRY(require_active_user(who.app_id(), user_id));
  return chat_.set_block(who.app_id(), who.user_id, user_id, on, now_ms());
}

Result<std::vector<std::pair<std::string, TimeMs>>> ChatService::blocks(const Caller& who) {
  return chat_.list_blocks(who.app_id(), who.user_id);
}

Result<SyncResult> ChatService::sync(const Caller& who, const SyncRequest& req) {
  SyncResult out;
  PARLEY_ASSIGN_OR_RETURN(auto changes, chat_.channel_changes(who.app_id(), who.user_id, req.since));
  out.changes = std::move(changes);
  for (const auto& [channel_id, last_seq] : req.channels) {
    auto a = readable(who, channel_id);
    if (!a) {
      if (a.error().code != Errc::not_found) return std::move(a).error();
      if (std::find(out.changes.removed.begin(), out.changes.removed.end(), channel_id) == out.changes.removed.end()) {
        out.changes.removed.push_back(channel_id);
      }
      continue;
    }
    PARLEY_ASSIGN_OR_RETURN(auto page, history(who, channel_id, last_seq, std::nullopt, req.limit_per_channel));
    out.channels.emplace(channel_id, std::move(page));
  }
  return out;
}

Result<std::vector<std::string>> ChatService::member_channel_ids(const Caller& who) {
  return chat_.member_channel_ids(who.app_id(), who.user_id);
}

Result<std::optional<store::MemberRecord>> ChatService::membership(const Caller& who, const std::string& channel_id) {
  return chat_.get_member(who.app_id(), channel_id, who.user_id);
}

}  // namespace parley::chat
