#include "chat/chat_service.hpp"

#include "chat/chat_json.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <future>
#include <set>

#include "core/crypto.hpp"
#include "core/json_reader.hpp"
#include "tenancy/settings.hpp"

namespace parley::chat {

namespace {

Error denied(std::string why) { return Error{Errc::forbidden, std::move(why)}; }

std::string json_list(const std::vector<std::string>& items) {
  if (items.empty()) return "[]";  // most messages mention nobody
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '@';
}

}  // namespace

int role_rank(const std::string& role) {
  if (role == "owner") return 4;
  if (role == "admin") return 3;
  if (role == "moderator") return 2;
  if (role == "member") return 1;
  return 0;
}

bool valid_role(const std::string& role) { return role == "admin" || role == "moderator" || role == "member"; }

std::vector<std::string> mentions_in_text(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '@' || (i > 0 && is_id_char(text[i - 1]))) continue;
    std::size_t j = i + 1;
    while (j < text.size() && is_id_char(text[j])) ++j;
    std::string id = text.substr(i + 1, j - i - 1);
    while (!id.empty() && (id.back() == '.' || id.back() == '-')) id.pop_back();  // sentence punctuation
    if (valid_external_id(id) && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    i = j - 1;
  }
  return out;
}

void ChatService::emit(ChatEvent e) {
  if (events_) events_->publish(std::move(e));
}

namespace {
ChatEvent channel_event(std::string type, const std::string& app_id, const std::string& channel_id) {
  ChatEvent e;
  e.type = std::move(type);
  e.app_id = app_id;
  e.channel_id = channel_id;
  return e;
}
ChatEvent message_event(std::string type, const store::MessageRecord& m) {
  ChatEvent e = channel_event(std::move(type), m.app_id, m.channel_id);
  e.seq = m.seq;
  e.data = {{"message", to_json(m, {}, false)}};
  return e;
}
boost::json::array id_array(const std::vector<std::string>& ids) {
  boost::json::array a;
  for (const auto& id : ids) a.emplace_back(id);
  return a;
}
}  // namespace

Status ChatService::require_active_user(const std::string& app_id, const std::string& user_id) {
  auto u = store_.get_user(app_id, user_id);
  if (!u) return u.error().code == Errc::not_found ? not_found("user " + user_id) : std::move(u).error();
  if (u->deactivated_at) return not_found("user " + user_id);
  return ok_status();
}

Result<ChatService::Access> ChatService::readable(const Caller& who, const std::string& channel_id) {
  auto ch = chat_.get_channel(who.app_id(), channel_id);
  if (!ch) return std::move(ch).error();
  if (ch->deleted_at) return not_found("channel");
  auto m = chat_.get_member(who.app_id(), channel_id, who.user_id);
  if (!m) return std::move(m).error();
  if (!*m && ch->type != "public") return not_found("channel");
  return Access{std::move(*ch), std::move(*m)};
}

Result<ChatService::Access> ChatService::writable(const Caller& who, const std::string& channel_id) {
  auto a = readable(who, channel_id);
  if (!a) return a;
  if (!a->member) return denied("join the channel first");
  if (a->channel.archived_at) return Error{Errc::conflict, "the channel is archived"};
  return a;
}

Result<store::ChannelView> ChatService::create_channel(const Caller& who, const NewChannel& spec) {
  auto settings = tenancy::parse_settings(who.app->settings_json);
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
  members.push_back({who.app_id(), ch.id, who.user_id, "owner", now});
  for (const auto& id : ids) members.push_back({who.app_id(), ch.id, id, "member", now});
  auto created = chat_.create_channel(ch, members);
  if (!created) return std::move(created).error();
  ChatEvent e = channel_event("channel.created", who.app_id(), ch.id);
  for (const auto& m : members) e.users.push_back(m.user_id);
  e.data = {{"channel", to_json(*created)}};
  emit(std::move(e));
  return chat_.channel_view(who.app_id(), ch.id, who.user_id);
}

Result<std::pair<store::ChannelView, bool>> ChatService::ensure_dm(const Caller& who, const std::string& other) {
  if (other == who.user_id) return violates("user_id", "a direct message needs another user");
  PARLEY_TRY(require_active_user(who.app_id(), other));
  auto blocked = chat_.blocked_either(who.app_id(), who.user_id, other);
  if (!blocked) return std::move(blocked).error();
  std::string key = std::min(who.user_id, other) + '\n' + std::max(who.user_id, other);
  auto existing = chat_.find_dm(who.app_id(), key);
  if (!existing) return std::move(existing).error();
  if (*blocked) return denied("one of the two users blocked the other");
  if (*existing && !(*existing)->deleted_at) {
    auto v = chat_.channel_view(who.app_id(), (*existing)->id, who.user_id);
    if (!v) return std::move(v).error();
    return std::pair{std::move(*v), false};
  }
  TimeMs now = now_ms();
  store::ChannelRecord ch;
  ch.app_id = who.app_id();
  ch.id = crypto::random_id("ch_", 20);
  ch.type = "dm";
  ch.dm_key = key;
  ch.created_by = who.user_id;
  ch.created_at = now;
  std::vector<store::MemberRecord> members = {{who.app_id(), ch.id, who.user_id, "member", now},
                                              {who.app_id(), ch.id, other, "member", now}};
  auto created = chat_.create_channel(ch, members);
  if (!created && created.error().code == Errc::conflict) return ensure_dm(who, other);  // lost a race: reuse
  if (!created) return std::move(created).error();
  ChatEvent e = channel_event("channel.created", who.app_id(), ch.id);
  e.users = {who.user_id, other};
  e.data = {{"channel", to_json(*created)}};
  emit(std::move(e));
  auto v = chat_.channel_view(who.app_id(), ch.id, who.user_id);
  if (!v) return std::move(v).error();
  return std::pair{std::move(*v), true};
}

Result<std::vector<store::ChannelView>> ChatService::list_channels(const Caller& who,
                                                                   const std::optional<std::string>& type,
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
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  if (a->channel.type == "dm") return denied("direct messages have no name or topic to change");
  if (role_rank(a->member->role) < role_rank("admin")) return denied("only owners and admins update a channel");
  store::ChannelRecord ch = a->channel;
  if (patch.name) ch.name = *patch.name;
  if (patch.topic) ch.topic = *patch.topic;
  if (patch.image_url) ch.image_url = *patch.image_url;
  if (patch.custom_json) ch.custom_json = *patch.custom_json;
  ch.updated_at = now_ms();
  auto saved = chat_.update_channel(ch);
  if (!saved) return std::move(saved).error();
  ChatEvent e = channel_event("channel.updated", who.app_id(), channel_id);
  e.data = {{"channel", to_json(*saved)}};
  emit(std::move(e));
  return chat_.channel_view(who.app_id(), channel_id, who.user_id);
}

Result<store::ChannelView> ChatService::set_archived(const Caller& who, const std::string& channel_id, bool archived) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member || role_rank(a->member->role) < role_rank("admin") || a->channel.type == "dm") {
    return denied("only owners and admins archive a group or public channel");
  }
  store::ChannelRecord ch = a->channel;
  TimeMs now = now_ms();
  ch.archived_at = archived ? std::optional<TimeMs>(ch.archived_at.value_or(now)) : std::nullopt;
  ch.updated_at = now;
  auto saved = chat_.update_channel(ch);
  if (!saved) return std::move(saved).error();
  ChatEvent e = channel_event("channel.updated", who.app_id(), channel_id);
  e.data = {{"channel", to_json(*saved)}};
  emit(std::move(e));
  return chat_.channel_view(who.app_id(), channel_id, who.user_id);
}

Status ChatService::delete_channel(const Caller& who, const std::string& channel_id) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member || a->member->role != "owner") return denied("only the owner deletes a channel");
  store::ChannelRecord ch = a->channel;
  ch.deleted_at = ch.updated_at = now_ms();
  PARLEY_TRY(chat_.update_channel(ch));
  ChatEvent e = channel_event("channel.deleted", who.app_id(), channel_id);
  e.data = {{"channel_id", channel_id}};
  emit(std::move(e));
  return ok_status();
}

Result<std::vector<store::MemberRecord>> ChatService::list_members(const Caller& who, const std::string& channel_id,
                                                                   const std::string& after_user_id, int limit) {
  PARLEY_TRY(readable(who, channel_id));
  return chat_.list_members(who.app_id(), channel_id, after_user_id, limit);
}

Result<std::vector<std::string>> ChatService::add_members(const Caller& who, const std::string& channel_id,
                                                          const std::vector<std::string>& user_ids,
                                                          const std::string& role) {
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  if (a->channel.type == "dm") return denied("a direct message has exactly two members");
  if (role_rank(a->member->role) < role_rank("admin")) return denied("only owners and admins add members");
  std::vector<store::MemberRecord> members;
  TimeMs now = now_ms();
  std::set<std::string> seen;
  for (const auto& id : user_ids) {
    if (!seen.insert(id).second) continue;
    PARLEY_TRY(require_active_user(who.app_id(), id));
    members.push_back({who.app_id(), channel_id, id, role, now});
  }
  auto settings = tenancy::parse_settings(who.app->settings_json);
  auto added = chat_.add_members(who.app_id(), channel_id, members, settings.max_channel_members);
  if (added && !added->empty()) {
    ChatEvent e = channel_event("member.added", who.app_id(), channel_id);
    e.users = *added;
    e.data = {{"user_ids", id_array(*added)}, {"role", role}, {"added_by", who.user_id}};
    emit(std::move(e));
  }
  return added;
}

Status ChatService::remove_member(const Caller& who, const std::string& channel_id, const std::string& user_id) {
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  if (a->channel.type == "dm") return denied("a direct message has exactly two members");
  if (role_rank(a->member->role) < role_rank("admin")) return denied("only owners and admins remove members");
  auto target = chat_.get_member(who.app_id(), channel_id, user_id);
  if (!target) return std::move(target).error();
  if (!*target) return not_found("member");
  if ((*target)->role == "owner") return denied("the owner cannot be removed");
  PARLEY_TRY(chat_.remove_member(who.app_id(), channel_id, user_id));
  ChatEvent e = channel_event("member.removed", who.app_id(), channel_id);
  e.users = {user_id};
  e.data = {{"user_id", user_id}, {"removed_by", who.user_id}};
  emit(std::move(e));
  return ok_status();
}

Result<store::MemberRecord> ChatService::set_role(const Caller& who, const std::string& channel_id,
                                                  const std::string& user_id, const std::string& role) {
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  if (role_rank(a->member->role) < role_rank("admin")) return denied("only owners and admins change roles");
  auto target = chat_.get_member(who.app_id(), channel_id, user_id);
  if (!target) return std::move(target).error();
  if (!*target) return not_found("member");
  if ((*target)->role == "owner") return denied("the owner's role cannot change");
  store::MemberRecord m = **target;
  m.role = role;
  auto saved = chat_.update_member(m);
  if (saved) {
    ChatEvent e = channel_event("member.updated", who.app_id(), channel_id);
    e.data = {{"member", to_json(*saved)}};
    emit(std::move(e));
  }
  return saved;
}

Result<store::MemberRecord> ChatService::join(const Caller& who, const std::string& channel_id) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (a->member) return *a->member;
  if (a->channel.archived_at) return Error{Errc::conflict, "the channel is archived"};
  auto settings = tenancy::parse_settings(who.app->settings_json);
  std::vector<store::MemberRecord> me = {{who.app_id(), channel_id, who.user_id, "member", now_ms()}};
  PARLEY_TRY(chat_.add_members(who.app_id(), channel_id, me, settings.max_channel_members));
  ChatEvent e = channel_event("member.added", who.app_id(), channel_id);
  e.users = {who.user_id};
  e.data = {{"user_ids", id_array({who.user_id})}, {"role", "member"}, {"added_by", who.user_id}};
  emit(std::move(e));
  auto m = chat_.get_member(who.app_id(), channel_id, who.user_id);
  if (!m) return std::move(m).error();
  if (!*m) return Error{Errc::internal, "membership vanished"};
  return std::move(**m);
}

Status ChatService::leave(const Caller& who, const std::string& channel_id) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member) return not_found("member");
  if (a->channel.type == "dm") return denied("a direct message cannot be left; hide it instead");
  if (a->member->role == "owner" && a->channel.member_count > 1) {
    return Error{Errc::conflict, "the owner cannot leave a channel that has other members"};
  }
  PARLEY_TRY(chat_.remove_member(who.app_id(), channel_id, who.user_id));
  ChatEvent e = channel_event("member.removed", who.app_id(), channel_id);
  e.users = {who.user_id};
  e.data = {{"user_id", who.user_id}, {"removed_by", who.user_id}};
  emit(std::move(e));
  return ok_status();
}

Result<store::MemberRecord> ChatService::update_membership(const Caller& who, const std::string& channel_id,
                                                           const MembershipPatch& patch) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member) return not_found("member");
  store::MemberRecord m = *a->member;
  if (patch.muted) m.muted = *patch.muted;
  if (patch.starred) m.starred = *patch.starred;
  if (patch.hidden) m.hidden = *patch.hidden;
  auto saved = chat_.update_member(m);
  if (saved) {  // muted/starred/hidden are the user's own: only their devices hear of it
    ChatEvent e = channel_event("member.updated", who.app_id(), channel_id);
    e.users = {who.user_id};
    e.users_only = true;
    e.data = {{"member", to_json(*saved)}};
    emit(std::move(e));
  }
  return saved;
}

struct ChatService::PendingSend {
  Caller who;
  std::string channel_id;
  OutgoingMessage msg;  // its text and ids move into the queued send
  std::int64_t max_message_bytes = 0;
  SendCallback done;
};

struct ChatService::CommittedBatch {
  std::vector<PendingSend> sends;
  std::vector<store::QueuedSend> queued;  // the sends as stored, with their results
  std::vector<std::string> keys;          // the batch's channels, counted in unpublished_
};

ChatService::ChatService(store::Store& store, GroupCommitOptions sends) : store_(store), chat_(store.chat()) {
  for (int i = 0; i < std::max(1, sends.committers); ++i) {
    // Takes whatever committed batches are waiting, in commit order.
    publishers_.push_back(std::make_unique<GroupCommitter<CommittedBatch>>(GroupCommitOptions{1 << 16, 0, 1},
                                                                           [this](std::vector<CommittedBatch>& done) {
                                                                             for (auto& b : done) publish_sends(b);
                                                                           }));
    auto& publisher = *publishers_.back();
    sends_.push_back(std::make_unique<GroupCommitter<PendingSend>>(
        sends, [this, &publisher](std::vector<PendingSend>& batch) { commit_sends(batch, publisher); }));
  }
}

ChatService::~ChatService() { stop_sends(); }

void ChatService::stop_sends() {
  for (auto& c : sends_) c->stop();  // commits what is queued, hands it to the publishers
  for (auto& p : publishers_) p->stop();
}

GroupCommitStats ChatService::send_stats() const {
  GroupCommitStats total;
  for (const auto& c : sends_) {
    auto s = c->stats();
    total.batches += s.batches;
    total.items += s.items;
  }
  return total;
}

void ChatService::send_async(const Caller& who, const std::string& channel_id, OutgoingMessage msg, SendCallback done) {
  PendingSend p{who, channel_id, std::move(msg), tenancy::parse_settings(who.app->settings_json).max_message_bytes,
                std::move(done)};
  auto& committer = *sends_[std::hash<std::string>{}(channel_id) % sends_.size()];
  if (!committer.submit(p)) p.done(Error{Errc::unavailable, "the server is shutting down; retry"});
}

Result<store::SendResult> ChatService::send(const Caller& who, const std::string& channel_id, OutgoingMessage msg) {
  std::promise<Result<store::SendResult>> outcome;
  auto ready = outcome.get_future();
  send_async(who, channel_id, std::move(msg),
             [&outcome](Result<store::SendResult> r) { outcome.set_value(std::move(r)); });
  return ready.get();
}

// The rules of a send, inside the batch transaction (channel row locked, reads consistent with
// the commit). Same checks, order and errors as every other write: the channel must be
// writable by the caller first, then the content is judged.
Status ChatService::check_send(PendingSend& p, const store::ChannelRecord& channel, store::QueuedSend& q,
                               store::SendReader& reader) {
  const std::string& app_id = q.app_id;
  const std::string& channel_id = q.channel_id;
  if (channel.deleted_at) return not_found("channel");
  auto me = reader.member(app_id, channel_id, q.message.user_id);
  if (!me) return std::move(me).error();
  if (!*me && channel.type != "public") return not_found("channel");
  if (!*me) return denied("join the channel first");
  if (channel.archived_at) return Error{Errc::conflict, "the channel is archived"};
  if (q.message.text.size() > static_cast<std::size_t>(p.max_message_bytes)) {
    return violates("text", "longer than " + std::to_string(p.max_message_bytes) + " bytes");
  }
  if (q.message.text.empty() && p.msg.attachment_count == 0) {
    return violates("text", "empty message without attachments");
  }
  if (channel.type == "dm") {
    const std::string& key = *channel.dm_key;
    std::string other = key.substr(0, key.find('\n'));
    if (other == q.message.user_id) other = key.substr(key.find('\n') + 1);
    auto blocked = reader.blocked_either(app_id, q.message.user_id, other);
    if (!blocked) return std::move(blocked).error();
    if (*blocked) return denied("one of the two users blocked the other");
  }
  // Mentions: the explicit list must name members; @tokens that are not members are ignored.
  std::vector<std::string> mentioned;
  for (const auto& id : p.msg.mentions) {
    auto m = reader.member(app_id, channel_id, id);
    if (!m) return std::move(m).error();
    if (!*m) return violates("mentions", "'" + id + "' is not a member of the channel");
    if (std::find(mentioned.begin(), mentioned.end(), id) == mentioned.end()) mentioned.push_back(id);
  }
  // The @tokens of the text follow the explicit list in q.lookups (commit_sends found them).
  for (std::size_t i = p.msg.mentions.size(); i < q.lookups.size(); ++i) {
    const std::string& id = q.lookups[i];
    if (mentioned.size() >= kMaxMentions) break;
    if (std::find(mentioned.begin(), mentioned.end(), id) != mentioned.end()) continue;
    auto m = reader.member(app_id, channel_id, id);
    if (!m) return std::move(m).error();
    if (*m) mentioned.push_back(id);
  }
  q.message.mentions_json = json_list(mentioned);
  q.message.mentions.clear();
  for (const auto& id : mentioned) {
    if (id != q.message.user_id) q.message.mentions.push_back(id);
  }
  return ok_status();
}

namespace {
std::string channel_key(std::string_view app_id, std::string_view channel_id) {
  std::string key;
  key.reserve(app_id.size() + 1 + channel_id.size());
  key.append(app_id).append(1, '\n').append(channel_id);
  return key;
}
}  // namespace

void ChatService::wait_published(const std::string& app_id, const std::string& channel_id) {
  std::unique_lock lock(unpublished_mu_);
  if (unpublished_.empty()) return;
  auto key = channel_key(app_id, channel_id);
  unpublished_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !unpublished_.contains(key); });
}

// Runs on a committer thread: one store transaction for the batch, then the batch goes to the
// committer's publisher (publish_sends). The batch's channels count as unpublished from before
// the commit until their events are out (see wait_published).
void ChatService::commit_sends(std::vector<PendingSend>& batch, GroupCommitter<CommittedBatch>& publisher) {
  CommittedBatch done;
  {
    // The batch's distinct channels, found without a string per send.
    using Ref = std::pair<std::string_view, std::string_view>;  // app, channel
    std::vector<Ref> refs;
    refs.reserve(batch.size());
    for (const auto& p : batch) refs.emplace_back(p.who.app_id(), p.channel_id);
    std::sort(refs.begin(), refs.end());
    refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
    done.keys.reserve(refs.size());
    for (const auto& [app, channel] : refs) done.keys.push_back(channel_key(app, channel));
  }
  {
    std::lock_guard lock(unpublished_mu_);
    for (const auto& k : done.keys) ++unpublished_[k];
  }
  done.queued.resize(batch.size());
  TimeMs now = now_ms();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    PendingSend& p = batch[i];
    store::QueuedSend& q = done.queued[i];
    q.app_id = p.who.app_id();
    q.channel_id = std::move(p.channel_id);  // only the queued send needs it from here
    q.message.user_id = p.who.user_id;
    q.message.text = std::move(p.msg.text);
    q.message.attachments_json = std::move(p.msg.attachments_json);
    q.message.parent_seq = p.msg.parent_seq;
    q.message.client_msg_id = std::move(p.msg.client_msg_id);
    q.message.created_at = now;
    q.lookups = p.msg.mentions;  // then the text's @tokens, which check_send reads from here
    for (auto& id : mentions_in_text(q.message.text)) q.lookups.push_back(std::move(id));
  }
  chat_.send_batch(done.queued, [&](std::size_t i, const store::ChannelRecord& channel, store::QueuedSend& q,
                                    store::SendReader& reader) { return check_send(batch[i], channel, q, reader); });
  done.sends = std::move(batch);
  batch.clear();
  if (!publisher.submit(done)) publish_sends(done);  // stopping: publish here (stop_sends avoids it)
}

// Runs on a publisher thread, batch after batch in commit order: the events of the new messages
// in seq order, then the acknowledgements — a send is acknowledged after its commit.
void ChatService::publish_sends(CommittedBatch& done) {
  for (auto& q : done.queued) {
    if (!q.result || q.result->duplicate) continue;
    const store::SendResult& sent = *q.result;
    emit(message_event("message.new", sent.message));
    if (sent.parent) {
      ChatEvent e = channel_event("thread.reply", q.app_id, q.channel_id);
      e.seq = sent.parent->seq;
      e.data = {{"parent_seq", sent.parent->seq},
                {"reply_seq", sent.message.seq},
                {"reply_count", sent.parent->reply_count},
                {"thread_participants", to_json(*sent.parent, {}, false)["thread_participants"]}};
      emit(std::move(e));
    }
  }
  {
    std::lock_guard lock(unpublished_mu_);
    for (const auto& k : done.keys) {
      if (--unpublished_[k] == 0) unpublished_.erase(k);
    }
  }
  unpublished_cv_.notify_all();
  for (std::size_t i = 0; i < done.sends.size(); ++i) {
    if (!done.queued[i].result) {
      done.sends[i].done(std::move(done.queued[i].result).error());
    } else {
      done.queued[i].result->parent.reset();
      done.sends[i].done(std::move(done.queued[i].result));
    }
  }
}

Result<MessagePage> ChatService::with_own_reactions(const Caller& who, const std::string& channel_id,
                                                    std::vector<store::MessageRecord> items, bool has_more) {
  MessagePage page;
  page.has_more = has_more;
  if (!items.empty()) {
    auto [lo, hi] =
        std::minmax_element(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.seq < y.seq; });
    auto mine = chat_.own_reactions(who.app_id(), channel_id, who.user_id, lo->seq, hi->seq);
    if (!mine) return std::move(mine).error();
    for (auto& [seq, type] : *mine) page.own_reactions[seq].push_back(std::move(type));
  }
  page.items = std::move(items);
  return page;
}

Result<MessagePage> ChatService::history(const Caller& who, const std::string& channel_id,
                                         std::optional<std::int64_t> after, std::optional<std::int64_t> before,
                                         int limit) {
  PARLEY_TRY(readable(who, channel_id));
  auto items = chat_.list_messages(who.app_id(), channel_id, after, before, limit + 1);
  if (!items) return std::move(items).error();
  wait_published(who.app_id(), channel_id);
  bool more = static_cast<int>(items->size()) > limit;
  if (more) {
    if (after)
      items->pop_back();  // ascending from `after`: drop the newest extra
    else
      items->erase(items->begin());  // before / newest page: drop the oldest extra
  }
  return with_own_reactions(who, channel_id, std::move(*items), more);
}

Result<MessagePage> ChatService::get_message(const Caller& who, const std::string& channel_id, std::int64_t seq) {
  PARLEY_TRY(readable(who, channel_id));
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  return with_own_reactions(who, channel_id, {std::move(*m)}, false);
}

Result<MessagePage> ChatService::edit(const Caller& who, const std::string& channel_id, std::int64_t seq,
                                      const std::string& text, const std::optional<std::string>& attachments_json) {
  PARLEY_TRY(writable(who, channel_id));
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  if (m->deleted_at) return not_found("message");
  if (m->user_id != who.user_id) return denied("only the author edits a message");
  if (text.empty() && attachments_json.value_or(m->attachments_json) == "[]") {
    return violates("text", "empty message without attachments");
  }
  auto settings = tenancy::parse_settings(who.app->settings_json);
  if (text.size() > static_cast<std::size_t>(settings.max_message_bytes)) {
    return violates("text", "longer than " + std::to_string(settings.max_message_bytes) + " bytes");
  }
  auto edited = chat_.edit_message(who.app_id(), channel_id, seq, text, attachments_json, now_ms());
  if (!edited) return std::move(edited).error();
  emit(message_event("message.updated", *edited));
  return with_own_reactions(who, channel_id, {std::move(*edited)}, false);
}

Status ChatService::delete_message(const Caller& who, const std::string& channel_id, std::int64_t seq) {
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  if (m->user_id != who.user_id && role_rank(a->member->role) < role_rank("moderator")) {
    return denied("only the author or a moderator deletes a message");
  }
  auto deleted = chat_.delete_message(who.app_id(), channel_id, seq, now_ms(), false);
  if (!deleted) return std::move(deleted).error();
  emit(message_event("message.deleted", *deleted));
  emit_parent_updated(*deleted);
  return ok_status();
}

// A deleted reply changed its parent's reply count: members see the parent as it is now.
void ChatService::emit_parent_updated(const store::MessageRecord& deleted) {
  if (!deleted.parent_seq) return;
  auto parent = chat_.get_message(deleted.app_id, deleted.channel_id, *deleted.parent_seq);
  if (parent) emit(message_event("message.updated", *parent));
}

Status ChatService::purge(const std::string& app_id, const std::string& channel_id, std::int64_t seq) {
  auto purged = chat_.delete_message(app_id, channel_id, seq, now_ms(), true);
  if (!purged) return std::move(purged).error();
  emit(message_event("message.deleted", *purged));
  emit_parent_updated(*purged);
  return ok_status();
}

Result<MessagePage> ChatService::replies(const Caller& who, const std::string& channel_id, std::int64_t parent_seq,
                                         std::int64_t after, int limit) {
  PARLEY_TRY(readable(who, channel_id));
  PARLEY_TRY(chat_.get_message(who.app_id(), channel_id, parent_seq));
  auto items = chat_.list_replies(who.app_id(), channel_id, parent_seq, after, limit + 1);
  if (!items) return std::move(items).error();
  bool more = static_cast<int>(items->size()) > limit;
  if (more) items->pop_back();
  return with_own_reactions(who, channel_id, std::move(*items), more);
}

Result<MessagePage> ChatService::react(const Caller& who, const std::string& channel_id, std::int64_t seq,
                                       const std::string& type, bool on) {
  PARLEY_TRY(writable(who, channel_id));
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  if (m->deleted_at) return not_found("message");
  auto updated = chat_.set_reaction(who.app_id(), channel_id, seq, who.user_id, type, on, now_ms());
  if (!updated) return std::move(updated).error();
  ChatEvent e = channel_event(on ? "reaction.added" : "reaction.removed", who.app_id(), channel_id);
  e.seq = seq;
  e.data = {
      {"seq", seq}, {"type", type}, {"user_id", who.user_id}, {"reactions", to_json(*updated, {}, false)["reactions"]}};
  emit(std::move(e));
  return with_own_reactions(who, channel_id, {std::move(*updated)}, false);
}

Result<std::vector<std::string>> ChatService::seen_by(const Caller& who, const std::string& channel_id,
                                                      std::int64_t seq) {
  PARLEY_TRY(readable(who, channel_id));
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  return chat_.seen_by(who.app_id(), channel_id, seq, m->user_id);
}

Result<std::pair<std::int64_t, std::int64_t>> ChatService::mark_read(const Caller& who, const std::string& channel_id,
                                                                     std::optional<std::int64_t> seq) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member) return denied("only members keep read state; join first");
  auto m = chat_.mark_read(who.app_id(), channel_id, who.user_id, seq.value_or(a->channel.last_seq));
  if (!m) return std::move(m).error();
  auto unread = chat_.unread_count(who.app_id(), channel_id, m->last_read_seq);
  if (!unread) return std::move(unread).error();
  if (m->last_read_seq > a->member->last_read_seq) {
    ChatEvent e = channel_event("read.updated", who.app_id(), channel_id);
    e.seq = m->last_read_seq;
    e.data = {{"user_id", who.user_id}, {"last_read_seq", m->last_read_seq}};
    emit(std::move(e));
    if (auto totals = chat_.unread_totals(who.app_id(), who.user_id)) {
      ChatEvent u;
      u.type = "unread.changed";
      u.app_id = who.app_id();
      u.users = {who.user_id};
      u.users_only = true;
      u.data = {{"unread_count", totals->unread_count},
                {"unread_mentions", totals->unread_mentions},
                {"channels_with_unread", totals->channels_with_unread},
                {"channel_id", channel_id},
                {"channel_unread_count", *unread}};
      emit(std::move(u));
    }
  }
  return std::pair{m->last_read_seq, *unread};
}

Status ChatService::pin(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on) {
  auto a = writable(who, channel_id);
  if (!a) return std::move(a).error();
  if (role_rank(a->member->role) < role_rank("moderator")) return denied("only moderators and above pin messages");
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
  if (on && m->deleted_at) return not_found("message");
  auto pinned =
      chat_.set_pinned(who.app_id(), channel_id, seq, on ? std::optional<TimeMs>(now_ms()) : std::nullopt, kMaxPins);
  if (!pinned) return std::move(pinned).error();
  if (pinned->pinned_at.has_value() != m->pinned_at.has_value()) emit(message_event("message.updated", *pinned));
  return ok_status();
}

Result<MessagePage> ChatService::pins(const Caller& who, const std::string& channel_id) {
  PARLEY_TRY(readable(who, channel_id));
  auto items = chat_.list_pinned(who.app_id(), channel_id);
  if (!items) return std::move(items).error();
  return with_own_reactions(who, channel_id, std::move(*items), false);
}

Status ChatService::save(const Caller& who, const std::string& channel_id, std::int64_t seq, bool on) {
  auto a = readable(who, channel_id);
  if (!a) return std::move(a).error();
  if (!a->member) return denied("only members save messages; join first");
  auto m = chat_.get_message(who.app_id(), channel_id, seq);
  if (!m) return std::move(m).error();
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
  auto changes = chat_.channel_changes(who.app_id(), who.user_id, req.since);
  if (!changes) return std::move(changes).error();
  out.changes = std::move(*changes);
  for (const auto& [channel_id, last_seq] : req.channels) {
    auto a = readable(who, channel_id);
    if (!a) {
      if (a.error().code != Errc::not_found) return std::move(a).error();
      if (std::find(out.changes.removed.begin(), out.changes.removed.end(), channel_id) == out.changes.removed.end()) {
        out.changes.removed.push_back(channel_id);
      }
      continue;
    }
    auto page = history(who, channel_id, last_seq, std::nullopt, req.limit_per_channel);
    if (!page) return std::move(page).error();
    out.channels.emplace(channel_id, std::move(*page));
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
